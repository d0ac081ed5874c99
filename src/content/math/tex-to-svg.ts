import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * TeX to SVG with MathJax (v4, `@mathjax/src`), in Node, synchronously: the content stage is
 * synchronous, and MathJax's CommonJS build with a synchronous `asyncLoad` (its own documented
 * way, see `util/asyncLoad/node.js`) needs no promise. Loaded on the first formula only (~0.5 s),
 * never at import. The image stage then rasterizes the SVG like any other (process-image.ts).
 */

export interface MathSvg {
  svg: string;
  /** Size at 1×, in CSS pixels (MathJax measures in ex; one ex is taken as 8 px at a 16 px text size). */
  width: number;
  height: number;
  /** How far below the text's baseline the image goes, in px (for `vertical-align`). */
  depth: number;
}

export class TexError extends Error {}

const EX_PX = 8;
/** Packages a blog's MathJax or KaTeX set-up usually has; `\require` is left out (it loads code). */
const PACKAGES = ['base', 'ams', 'newcommand', 'configmacros', 'boldsymbol', 'mhchem', 'cancel', 'color', 'braket', 'mathtools', 'textmacros', 'noerrors'];
const CONFIGURATIONS = ['base/BaseConfiguration', 'ams/AmsConfiguration', 'newcommand/NewcommandConfiguration', 'configmacros/ConfigMacrosConfiguration', 'boldsymbol/BoldsymbolConfiguration', 'mhchem/MhchemConfiguration', 'cancel/CancelConfiguration', 'color/ColorConfiguration', 'braket/BraketConfiguration', 'mathtools/MathtoolsConfiguration', 'textmacros/TextMacrosConfiguration'];
/** KaTeX's logo macros, which posts about KaTeX use and MathJax does not define. */
const MACROS = { KaTeX: '\\mathrm{K\\kern-.3em\\raise.2em{\\scriptstyle A}\\kern-.15em T\\kern-.1667em\\lower.5ex{E}\\kern-.125em X}', LaTeX: '\\mathrm{L\\kern-.3em\\raise.2em{\\scriptstyle A}\\kern-.15em T\\kern-.1667em\\lower.5ex{E}\\kern-.125em X}' };

interface Engine {
  convert(tex: string, display: boolean): string;
  loadFonts(): void;
}

let engine: Engine | null = null;

function load(): Engine {
  const require = createRequire(import.meta.url);
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { mathjax } = require('@mathjax/src/js/mathjax.js');
  const { TeX } = require('@mathjax/src/js/input/tex.js');
  const { SVG } = require('@mathjax/src/js/output/svg.js');
  const { liteAdaptor } = require('@mathjax/src/js/adaptors/liteAdaptor.js');
  const { RegisterHTMLHandler } = require('@mathjax/src/js/handlers/html.js');
  for (const name of CONFIGURATIONS) require(`@mathjax/src/js/input/tex/${name}.js`);
  // Font data that MathJax loads on demand (script, fraktur, …) comes through require, at once.
  mathjax.asyncLoad = (name: string) => require(name);
  mathjax.asyncIsSynchronous = true;
  const adaptor = liteAdaptor();
  RegisterHTMLHandler(adaptor);
  const tex = new TeX({
    packages: PACKAGES.filter((p) => p !== 'noerrors'),
    macros: MACROS,
    formatError: (_jax: unknown, error: Error) => {
      throw new TexError(error.message);
    },
  });
  // One SVG per formula (no line breaks of inline math into several SVGs), its glyphs inside it.
  const svg = new SVG({ fontCache: 'local', linebreaks: { inline: false } });
  const document = mathjax.document('', { InputJax: tex, OutputJax: svg });
  return {
    convert: (text, display) => adaptor.innerHTML(document.convert(text, { display })),
    loadFonts: () => svg.font.loadDynamicFilesSync(),
  };
}

function convert(tex: string, display: boolean): string {
  engine ??= load();
  try {
    return engine.convert(tex, display);
  } catch (error) {
    if (error instanceof TexError) throw error;
    // "MathJax retry": a character whose font data is loaded on demand. Load it all, once.
    if (/retry/i.test((error as Error).message)) {
      engine.loadFonts();
      return engine.convert(tex, display);
    }
    throw new TexError((error as Error).message);
  }
}

const cache = new Map<string, MathSvg>();

/** One formula as an SVG image; a TeX error throws `TexError` with MathJax's message. */
export function texToSvg(tex: string, display: boolean): MathSvg {
  const key = `${display ? 'D' : 'I'}${tex}`;
  const known = cache.get(key);
  if (known) return known;
  const markup = convert(tex, display);
  const ex = (name: string) => Number.parseFloat(new RegExp(`${name}="([\\d.]+)ex"`).exec(markup)?.[1] ?? '0');
  const width = Math.max(1, Math.round(ex('width') * EX_PX));
  const height = Math.max(1, Math.round(ex('height') * EX_PX));
  const depth = Math.round(Math.abs(Number.parseFloat(/vertical-align:\s*(-?[\d.]+)ex/.exec(markup)?.[1] ?? '0')) * EX_PX);
  // Sizes in px (librsvg reads ex against its own font), black glyphs on transparent.
  const svg = markup
    .replace(/^<svg\b([^>]*?)\swidth="[\d.]+ex"/, `<svg$1 width="${width}px"`)
    .replace(/^(<svg\b[^>]*?)\sheight="[\d.]+ex"/, `$1 height="${height}px"`)
    .replace(/currentColor/g, '#222222');
  const result = { svg, width, height, depth };
  if (cache.size > 1000) cache.clear();
  cache.set(key, result);
  return result;
}

/** A stable name for a formula's image: the same TeX is one file. */
export function mathImageName(tex: string, display: boolean): string {
  return `math-${createHash('sha256').update(`${display}\n${tex}`).digest('hex').slice(0, 16)}.svg`;
}
