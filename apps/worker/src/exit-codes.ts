/** Exit status of a worker that refused to start (sysexits' EX_CONFIG): a worker host does not restart it. */
export const EXIT_REFUSED = 78;
