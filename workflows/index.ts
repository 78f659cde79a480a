/** Every workflow the cutover worker registers. */
export { healthCheck } from './health';
