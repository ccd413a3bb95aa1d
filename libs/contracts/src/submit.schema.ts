import { z } from 'zod';
import { PRECISION_POLICIES } from './precision.js';

/** Form fields arrive as strings; booleans are spelled any way people spell them (`TRUE`, `yes`, `1`). */
const formBool = z
  .union([z.boolean(), z.string().trim().toLowerCase().pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** A whole number written as digits: an empty field is an error, not 0. */
const formInt = z.union([z.number(), z.string().trim().regex(/^\d+$/, 'expected a whole number').transform(Number)]).pipe(z.number().int());

/** The non-file fields of `POST /v1/jobs` (multipart form fields arrive as strings). */
export const submitJobFieldsSchema = z
  .object({
    model: z.string().min(1).max(100).default('ppocr-v4-det'),
    precision: z.enum(PRECISION_POLICIES).default('auto'),
    /** 0..10, higher runs first. */
    priority: formInt.pipe(z.number().min(0).max(10)).default(5),
    /** Accept the CPU (fp32) as a last resort when no GPU class can serve the job; unset: the server's CPU_FALLBACK. */
    allowCpu: formBool.optional(),
    /** Queue the job even when no live worker can serve it now; it waits for capacity. */
    waitForCapacity: formBool.default(false),
    /** POSTed, signed, when the job finishes (http or https; private addresses only where the server allows). */
    webhookUrl: z.string().trim().min(1).max(2048).optional(),
  })
  .strict();

export type SubmitJobFields = z.infer<typeof submitJobFieldsSchema>;
