import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = Symbol('IS_PUBLIC');

/** Marks a controller or route that answers without an API key (health checks). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
