// mjml ships no types; the render stage wraps the one function it uses (see render/mjml.ts).
declare module 'mjml' {
  const mjml2html: (mjml: string, options?: Record<string, unknown>) => Promise<{ html: string; errors: unknown[] }>;
  export default mjml2html;
}
