/**
 * SVG is XML text: it must be valid UTF-8, close its root element, and declare no entities (entity expansion is
 * the classic way to make a small XML file consume unbounded memory). The renderer does the full parse.
 *
 * @returns why the file is refused, or undefined.
 */
export function checkSvg(bytes: Buffer): string | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'not valid UTF-8 text';
  }
  if (/<!ENTITY/i.test(text)) return 'declares XML entities, which are not accepted';
  if (!/<\/svg\s*>\s*$/i.test(text.replace(/<!--[\s\S]*?-->/g, '').trimEnd())) return 'truncated: the root <svg> element is not closed';
  return undefined;
}
