/** onnxruntime's message, on one line and short enough for a capability advert (~300 characters). */
export function errorText(error: unknown, limit = 300): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}
