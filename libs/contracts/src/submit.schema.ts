import { z } from 'zod';
import { PRECISION_POLICIES } from './precision.js';

const formBool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** The non-file fields of `POST /v1/jobs` (multipart form fields arrive as strings). */
export const submitJobFieldsSchema = z
  .object({
    model: z.string().min(1).max(100).default('ppocr-v4-det'),
    precision: z.enum(PRECISION_POLICIES).default('auto'),
    /** 0..10, higher runs first. */
    priority: z.coerce.number().int().min(0).max(10).default(5),
    /** Accept the CPU (fp32) as a last resort when no GPU class can serve the job. */
    allowCpu: formBool.default(false),
    /** Queue the job even when no live worker can serve it now; it waits for capacity. */
    waitForCapacity: formBool.default(false),
  })
  .strict();

export type SubmitJobFields = z.infer<typeof submitJobFieldsSchema>;
