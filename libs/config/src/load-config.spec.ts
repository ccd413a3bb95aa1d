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
});
