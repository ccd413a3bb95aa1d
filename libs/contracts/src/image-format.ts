/**
 * Image formats the API can recognise from their bytes. Which of them it accepts is configuration
 * (`ACCEPTED_FORMATS`); SVG is recognised but off by default: rendering it runs an XML parser and a renderer
 * on untrusted input for no gain on scanned pages.
 */
export const IMAGE_FORMATS = ['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif', 'svg'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/**
 * The most pixels any image may have, whatever `MAX_IMAGE_PIXELS` says: the decoder's own limit
 * (`limitInputPixels`), so a file whose header claims a huge canvas is refused before memory is allocated.
 */
export const MAX_DECODE_PIXELS = 100_000_000;
