import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config.js';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig({});
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.API_PORT).toBe(8080);
    expect(config.MAX_CRASHES).toBe(3);
  });

  it('lists every bad variable at once', () => {
    try {
      loadConfig({ REDIS_URL: 'not a url', API_PORT: '99999', MAX_CRASHES: 'x' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const message = (err as Error).message;
      expect(message).toContain('REDIS_URL');
      expect(message).toContain('API_PORT');
      expect(message).toContain('MAX_CRASHES');
    }
  });

  it('converts GB settings to bytes and parses booleans', () => {
    const config = loadConfig({ CPU_MEMORY_GB: '2', AUTO_CALIBRATE: 'false' });
    expect(config.CPU_MEMORY_GB).toBe(2e9);
    expect(config.AUTO_CALIBRATE).toBe(false);
  });

  it('reads lists: accepted formats (SVG only when named) and CORS origins', () => {
    expect(loadConfig({}).ACCEPTED_FORMATS).not.toContain('svg');
    expect(loadConfig({ ACCEPTED_FORMATS: 'png, jpeg,svg' }).ACCEPTED_FORMATS).toEqual(['png', 'jpeg', 'svg']);
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example,https://b.example' }).CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
    expect(loadConfig({}).CORS_ORIGINS).toEqual([]);
    expect(() => loadConfig({ ACCEPTED_FORMATS: 'png,bmp' })).toThrow(/ACCEPTED_FORMATS/);
  });

  it('needs a bucket for BLOB_STORE=s3, and both halves of static S3 credentials', () => {
    expect(() => loadConfig({ BLOB_STORE: 's3' })).toThrow(/S3_BUCKET: required when BLOB_STORE=s3/);
    expect(() => loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'k' })).toThrow(/go together/);
    expect(loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'bucket' }).S3_REGION).toBe('us-east-1');
  });

  it('caps MAX_IMAGE_PIXELS at what the decoder allows', () => {
    expect(() => loadConfig({ MAX_IMAGE_PIXELS: '200000000' })).toThrow(/MAX_IMAGE_PIXELS/);
  });
});
