import Handlebars from 'handlebars';
import type { SiteTemplates } from '../publish/site-templates.js';

/**
 * The unsubscribe page without running Handlebars per request, which cost a one-click POST about
 * as much as verifying its token. In one state the page differs between readers only in `email`
 * and `actionUrl`, so each state is rendered once with stand-ins for the two and cut where they
 * appear; a request joins the pieces around its own values, escaped where Handlebars escaped the
 * stand-in (`{{email}}`) and raw where it did not (`{{{email}}}`). A template that does more with
 * them than print them (a helper, a comparison) gives itself away by rendering a second pair of
 * stand-ins, or an address full of markup characters, otherwise than the pieces would: that state
 * is then rendered per request, as before. So is a state whose first render throws, which then
 * fails each request the way it always did.
 */

export type PageState = 'confirm' | 'unsubscribed' | 'resubscribed' | 'refused';

type Field = 'email' | 'actionUrl' | 'formToken';
type Values = Record<Field, string>;
type Piece = string | { field: Field; escaped: boolean };

// `&` is what Handlebars escapes: `&amp;` in the output marks `{{x}}`, a bare `&` marks `{{{x}}}`.
// The NULs keep a stand-in from matching anything a template writes itself.
const standIn = (field: Field, n: number) => `\u0000${field}${n}&\u0000`;
const FIRST_STAND_IN = /\u0000(email|actionUrl|formToken)1(&amp;|&)\u0000/g;

function cut(html: string): Piece[] {
  const pieces: Piece[] = [];
  let at = 0;
  for (const match of html.matchAll(FIRST_STAND_IN)) {
    pieces.push(html.slice(at, match.index), { field: match[1] as Field, escaped: match[2] === '&amp;' });
    at = match.index + match[0].length;
  }
  pieces.push(html.slice(at));
  return pieces;
}

function join(pieces: readonly Piece[], values: Values): string {
  const escaped: Values = { email: Handlebars.escapeExpression(values.email), actionUrl: Handlebars.escapeExpression(values.actionUrl), formToken: Handlebars.escapeExpression(values.formToken) };
  let html = '';
  for (const piece of pieces) html += typeof piece === 'string' ? piece : piece.escaped ? escaped[piece.field] : values[piece.field];
  return html;
}

/**
 * `formToken` is the page's own proof for its forms (serve/form-token.ts): a browser that sends
 * no Origin header still gets its resubscribe through with it.
 */
export function unsubscribePages(pages: SiteTemplates, base: object, siteUrl: string): (state: PageState, email: string | null, actionUrl: string, formToken?: string) => string {
  const render = (state: PageState, email: string | null, actionUrl: string, formToken = '') => pages.render('unsubscribe', { ...base, state, email, actionUrl, formToken });
  // null: render per request.
  const cache = new Map<PageState, Piece[] | null>();

  function specialise(state: PageState): Piece[] | null {
    try {
      const values = (n: number): Values => ({ email: standIn('email', n), actionUrl: standIn('actionUrl', n), formToken: standIn('formToken', n) });
      const pieces = cut(render(state, values(1).email, values(1).actionUrl, values(1).formToken));
      const checks: Values[] = [values(2), { email: `"a'b&c<d>=\`@example.com`, actionUrl: `${siteUrl}unsubscribe/a&b"c`, formToken: `1.a&b"c'<` }];
      return checks.every((check) => join(pieces, check) === render(state, check.email, check.actionUrl, check.formToken)) ? pieces : null;
    } catch {
      return null;
    }
  }

  return (state, email, actionUrl, formToken = '') => {
    // A refused token has no address: its page is the same for everyone, rendered the usual way.
    if (email === null) return render(state, email, actionUrl, formToken);
    let pieces = cache.get(state);
    if (pieces === undefined) cache.set(state, (pieces = specialise(state)));
    return pieces ? join(pieces, { email, actionUrl, formToken }) : render(state, email, actionUrl, formToken);
  };
}
