import type { Element } from 'domhandler';
import { Element as ElementNode, Text } from 'domhandler';

/**
 * No iframe or video plays in an email. An embed becomes what a reader can use: a linked
 * thumbnail where one can be known without a network request (YouTube), otherwise a clear link
 * card ("Watch on Vimeo") to the page the embed comes from.
 */

export interface EmbedTarget {
  /** The page a reader should open. */
  page: string;
  /** A still image of the embed, when one can be known from the URL alone. */
  thumbnail: { src: string; width: number; height: number } | null;
  /** "Watch on YouTube". */
  label: string;
}

function parseUrl(src: string): URL | null {
  try {
    const url = new URL(src.startsWith('//') ? `https:${src}` : src);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
  } catch {
    return null;
  }
}

/** Where an `<iframe src>` leads, for the providers blogs embed most. */
export function embedTarget(src: string): EmbedTarget | null {
  const url = parseUrl(src);
  if (!url) return null;
  const host = url.hostname.replace(/^www\./, '');
  const youtube = /^(?:youtube\.com|youtube-nocookie\.com|m\.youtube\.com)$/.test(host) ? /^\/embed\/([\w-]{6,})/.exec(url.pathname) : null;
  if (youtube) {
    const id = youtube[1]!;
    return {
      page: `https://www.youtube.com/watch?v=${id}`,
      thumbnail: { src: `https://i.ytimg.com/vi/${id}/hqdefault.jpg`, width: 480, height: 360 },
      label: 'Watch on YouTube',
    };
  }
  const vimeo = host === 'player.vimeo.com' ? /^\/video\/(\d+)/.exec(url.pathname) : null;
  if (vimeo) return { page: `https://vimeo.com/${vimeo[1]}`, thumbnail: null, label: 'Watch on Vimeo' };
  const loom = host === 'loom.com' ? /^\/embed\/(\w+)/.exec(url.pathname) : null;
  if (loom) return { page: `https://www.loom.com/share/${loom[1]}`, thumbnail: null, label: 'Watch on Loom' };
  if (host === 'open.spotify.com' && url.pathname.startsWith('/embed/')) {
    return { page: `https://open.spotify.com/${url.pathname.slice('/embed/'.length)}`, thumbnail: null, label: 'Listen on Spotify' };
  }
  if (host === 'player.bilibili.com') {
    const id = url.searchParams.get('bvid') ?? (url.searchParams.get('aid') ? `av${url.searchParams.get('aid')}` : null);
    if (id && /^\w+$/.test(id)) return { page: `https://www.bilibili.com/video/${id}`, thumbnail: null, label: 'Watch on Bilibili' };
  }
  if (host === 'v.qq.com' && url.searchParams.get('vid')) {
    const id = url.searchParams.get('vid')!;
    if (/^\w+$/.test(id)) return { page: `https://v.qq.com/x/page/${id}.html`, thumbnail: null, label: 'Watch on Tencent Video' };
  }
  const codepen = host === 'codepen.io' ? /^\/([\w-]+)\/embed\/(?:preview\/)?(\w+)/.exec(url.pathname) : null;
  if (codepen) return { page: `https://codepen.io/${codepen[1]}/pen/${codepen[2]}`, thumbnail: null, label: 'Open on CodePen' };
  return { page: url.href, thumbnail: null, label: `Open on ${host}` };
}

function el(name: string, attribs: Record<string, string>, children: (ElementNode | Text)[] = []): ElementNode {
  const node = new ElementNode(name, attribs, children);
  for (const child of children) child.parent = node;
  return node;
}

/** The card that stands for an embed: thumbnail (if any) and a link line, both to `page`. */
export function embedCard(target: EmbedTarget, title: string | null): ElementNode[] {
  const label = title ? `▶ ${target.label}: ${title}` : `▶ ${target.label}`;
  // One link around thumbnail and label: the plain text then shows the label and the URL once.
  const thumbnail = target.thumbnail
    ? [el('img', { src: target.thumbnail.src, alt: title ? `Video: ${title}` : target.label, width: String(target.thumbnail.width), height: String(target.thumbnail.height) }), el('br', {})]
    : [];
  return [el('p', { class: 'nl-embed' }, [el('a', { href: target.page }, [...thumbnail, el('strong', {}, [new Text(label)])])])];
}

/** The address a `<video>` plays: its `src`, or its first `<source src>`. */
export function videoSource(video: Element): string | null {
  if (video.attribs.src) return video.attribs.src;
  for (const child of video.children) {
    if (child instanceof ElementNode && child.name === 'source' && child.attribs.src) return child.attribs.src;
  }
  return null;
}

/** A `<video>` card: its poster linked to the video where both are known, else a link line. */
export function videoCard(src: string | null, poster: string | null, title: string | null): ElementNode[] | null {
  const url = src ? parseUrl(src) : null;
  if (!url) return null;
  const target: EmbedTarget = {
    page: url.href,
    thumbnail: null,
    label: 'Watch the video',
  };
  const nodes = embedCard(target, title);
  if (poster) {
    const link = nodes[0]!.children[0] as ElementNode;
    const image = el('img', { src: poster, alt: title ? `Video: ${title}` : 'Video' });
    const br = el('br', {});
    image.parent = br.parent = link;
    link.children.unshift(image, br);
  }
  return nodes;
}
