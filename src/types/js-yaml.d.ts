// js-yaml 3 ships no types; the content stage uses its load() with the core schema (front-matter.ts).
declare module 'js-yaml' {
  export const CORE_SCHEMA: unknown;
  export function load(text: string, options?: { schema?: unknown; filename?: string }): unknown;
  const yaml: { load: typeof load; CORE_SCHEMA: unknown };
  export default yaml;
}
