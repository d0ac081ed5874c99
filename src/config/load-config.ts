import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { NewsletterError } from '../errors.js';
import { configSchema, type ConfigFile } from './schema.js';
import { DEFAULTS, type ResolvedConfig } from './defaults.js';
import { lineOfOffset } from '../text-position.js';
import { zodToError } from '../schema-errors.js';
import { displayPath } from '../fs/display-path.js';

export interface ConfigRequest {
  /** `--config FILE`; when absent, `newsletter.config.json` in `cwd` is read if it exists. */
  configFile?: string | undefined;
  content?: string | undefined;
  templates?: string | undefined;
  out?: string | undefined;
  cwd?: string | undefined;
}

/** The request's working folder, absolute: the one place a request without `cwd` falls back to the process's. */
export function requestCwd(request: ConfigRequest): string {
  return path.resolve(request.cwd ?? process.cwd());
}

/** Reads, validates and resolves the config once; every command starts here. */
export async function loadConfig(request: ConfigRequest = {}): Promise<ResolvedConfig> {
  const cwd = requestCwd(request);
  const explicit = request.configFile !== undefined;
  const configPath = path.resolve(cwd, request.configFile ?? DEFAULTS.configFile);
  const shown = displayPath(configPath, cwd);

  let text: string | null = null;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new NewsletterError('CONFIG_INVALID', `cannot read config: ${(error as Error).message}`, { file: shown });
    }
    if (explicit) {
      throw new NewsletterError('CONFIG_NOT_FOUND', `config file \`${shown}\` does not exist`, {
        file: shown,
        hint: 'create it (see docs/config.md) or leave out --config to use the built-in defaults',
      });
    }
  }

  const file = text === null ? null : parseConfigText(text, shown);
  const root = text === null ? cwd : path.dirname(configPath);
  return resolveConfig(file, {
    content: path.resolve(cwd, request.content ?? DEFAULTS.paths.content),
    templates: path.resolve(cwd, request.templates ?? DEFAULTS.paths.templates),
    out: path.resolve(cwd, request.out ?? DEFAULTS.paths.out),
    config: text === null ? null : configPath,
    root,
    cwd,
  });
}

/**
 * JSON with comments and trailing commas allowed (people annotate their config), parsed with a
 * parser that reports where the problem is: Node's JSON.parse often gives no position at all.
 */
export function parseJsonText(text: string, file: string, code: 'CONFIG_INVALID' | 'THEME_INVALID'): unknown {
  const errors: ParseError[] = [];
  const raw: unknown = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) {
    throw new NewsletterError(code, `not valid JSON: ${printParseErrorCode(first.error)}`, { file, line: lineOfOffset(text, first.offset) });
  }
  return raw;
}

export function parseConfigText(text: string, file: string): ConfigFile {
  const raw = parseJsonText(text, file, 'CONFIG_INVALID');
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw zodToError(parsed.error, text, file, 'CONFIG_INVALID', 0, configSchema, raw);
  return parsed.data;
}

export { zodToError } from '../schema-errors.js';

export function resolveConfig(file: ConfigFile | null, paths: ResolvedConfig['paths']): ResolvedConfig {
  const d = DEFAULTS.config;
  const siteUrl = file?.siteUrl ? (file.siteUrl.endsWith('/') ? file.siteUrl : `${file.siteUrl}/`) : d.siteUrl;
  const utm = file?.utm
    ? { source: file.utm.source, medium: file.utm.medium, campaign: file.utm.campaign, hosts: file.utm.hosts ?? [] }
    : null;
  return {
    name: file?.name ?? d.name,
    from: file?.from ?? d.from,
    replyTo: file?.replyTo ?? d.replyTo,
    postalAddress: file?.postalAddress ?? d.postalAddress,
    siteUrl,
    baseUrl: file?.baseUrl ?? (file?.siteUrl ? `${siteUrl}issues/{issue}/` : d.baseUrl),
    unsubscribeUrl: file?.unsubscribeUrl ?? (file?.siteUrl ? `${siteUrl}unsubscribe/{token}` : d.unsubscribeUrl),
    unsubscribeMailto: file?.unsubscribeMailto ?? d.unsubscribeMailto,
    listId: file?.listId ?? d.listId,
    utm,
    themeOverrides: structuredClone(file?.theme ?? {}),
    locale: file?.locale ?? d.locale,
    sampleRecipient: { ...(file?.sampleRecipient ?? d.sampleRecipient) } as ResolvedConfig['sampleRecipient'],
    suppressions: path.resolve(paths.root, file?.suppressions ?? d.suppressions),
    dkim: file?.dkim ? { ...file.dkim, privateKeyFile: path.resolve(paths.root, file.dkim.privateKeyFile) } : null,
    checks: {
      rules: { ...(file?.checks?.rules ?? {}) },
      clients: [...(file?.checks?.clients ?? d.checks.clients)],
    },
    images: file?.images ?? d.images,
    imageCache: path.resolve(paths.root, d.imageCache),
    mjml: { validation: file?.mjml?.validation ?? d.mjml.validation },
    bounces: {
      address: file?.bounces?.address ?? d.bounces.address,
      imap: file?.bounces?.imap ?? d.bounces.imap,
      processed: file?.bounces?.processed ?? d.bounces.processed,
      folder: file?.bounces?.folder ?? d.bounces.folder,
      softBounceLimit: file?.bounces?.softBounceLimit ?? d.bounces.softBounceLimit,
    },
    signup: resolveSignup(file?.signup),
    paths,
  };
}

function resolveSignup(given: ConfigFile['signup']): ResolvedConfig['signup'] {
  const d = DEFAULTS.signup;
  const captcha = given?.captcha;
  return {
    fields: [...(given?.fields ?? [])],
    consentText: given?.consentText ?? d.consentText,
    fullIp: given?.fullIp ?? false,
    maxPerIpPerHour: given?.maxPerIpPerHour ?? d.maxPerIpPerHour,
    tokenDays: given?.tokenDays ?? d.tokenDays,
    confirmSubject: given?.confirmSubject ?? d.confirmSubject,
    welcomeSubject: given?.welcomeSubject ?? d.welcomeSubject,
    captcha: captcha ? { provider: captcha.provider, siteKey: captcha.siteKey, verifyUrl: captcha.verifyUrl ?? d.captchaVerifyUrls[captcha.provider] } : null,
  };
}
