/**
 * Issue 8 targets: a build of an issue with ten 4000×3000 photos in under 10 s cold (nothing
 * cached) and under 1 s warm (processed images cached by content hash).
 *
 * The photos are made here with sharp (noise over a gradient, so they compress like photographs,
 * ~3–4 MB each) in a temp project: one Markdown article in a page bundle with the ten photos, the
 * repo's templates. Each run is a fresh process (so the in-memory cache cannot flatter it) that
 * loads the project, warms MJML, then times `buildIssue` (load, images, render, check, write).
 * Cold: the image cache and the output removed before each run. Warm: both kept from the run
 * before. Also timed in the same processes: the render of the same issue without its images
 * (the photos' Markdown removed), for the ratio.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain, median, ms } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HERE = fileURLToPath(import.meta.url);
const PHOTOS = 10;

async function makeProject() {
  const { default: sharp } = await import('sharp');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-bench-images-'));
  await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
  const bundle = path.join(dir, 'content/articles/photos');
  await mkdir(bundle, { recursive: true });
  await mkdir(path.join(dir, 'content/issues'), { recursive: true });
  const noise = Buffer.alloc(4000 * 3000 * 3);
  for (let i = 0; i < PHOTOS; i++) {
    for (let j = 0; j < noise.length; j++) noise[j] = (j % 3 === 0 ? (j / 3000) % 256 : 90) + ((Math.random() * 40) | 0);
    await sharp(noise, { raw: { width: 4000, height: 3000, channels: 3 } })
      .jpeg({ quality: 88 })
      .withExif({ IFD0: { Make: 'BenchCam', Model: `B-${i}` } })
      .toFile(path.join(bundle, `photo-${i}.jpg`));
  }
  const figures = Array.from({ length: PHOTOS }, (_, i) => `![Photo ${i + 1} of the series](./photo-${i}.jpg)\n\nA paragraph about photo ${i + 1}.`).join('\n\n');
  await writeFile(path.join(bundle, 'index.md'), `+++\ntitle = "Ten photographs"\n+++\n${figures}\n`);
  await writeFile(path.join(dir, 'content/articles/text-only.md'), `---\ntitle: Ten paragraphs\n---\n${Array.from({ length: PHOTOS }, (_, i) => `A paragraph about photo ${i + 1}.`).join('\n\n')}\n`);
  await writeFile(path.join(dir, 'content/issues/photos.md'), '---\nsubject: "Ten photographs"\npreheader: "A build with ten camera photos in it."\narticles:\n  - photos\n---\n');
  await writeFile(path.join(dir, 'content/issues/text-only.md'), '---\nsubject: "Ten paragraphs"\npreheader: "The same issue without its photos."\narticles:\n  - text-only\n---\n');
  return dir;
}

/** Child: one timed build of each issue, printed as JSON. */
async function child(dir) {
  const { loadProject, buildIssue } = await import(path.join(ROOT, 'lib/index.js'));
  const { loadMjml } = await import(path.join(ROOT, 'lib/render/mjml.js'));
  await loadMjml();
  const project = await loadProject({ cwd: dir });
  const t0 = performance.now();
  const built = await buildIssue(project, 'photos');
  const photos = performance.now() - t0;
  const t1 = performance.now();
  await buildIssue(project, 'text-only');
  const textOnly = performance.now() - t1;
  process.stdout.write(JSON.stringify({ photos, textOnly, assets: built.rendered.assets.length }));
}

function once(dir) {
  return JSON.parse(execFileSync(process.execPath, [HERE, '--child', dir], { encoding: 'utf8' }));
}

export async function run({ runs = 3 } = {}) {
  const dir = await makeProject();
  try {
    const cold = [];
    const warm = [];
    const bare = [];
    let assets = 0;
    for (let i = 0; i < runs; i++) {
      await rm(path.join(dir, '.newsletter'), { recursive: true, force: true });
      await rm(path.join(dir, 'dist'), { recursive: true, force: true });
      const result = once(dir);
      cold.push(result.photos);
      bare.push(result.textOnly);
      assets = result.assets;
    }
    for (let i = 0; i < runs; i++) {
      const result = once(dir);
      warm.push(result.photos);
      bare.push(result.textOnly);
    }
    console.log(`build of an issue with ${PHOTOS} photos of 4000×3000 (${assets} assets), ${runs} fresh processes each:`);
    console.log(`  cold (no cache):       median ${ms(median(cold))}  (target < 10 s)   runs: ${cold.map((v) => v.toFixed(0)).join(', ')}`);
    console.log(`  warm (cached by hash): median ${ms(median(warm))}  (target < 1 s)    runs: ${warm.map((v) => v.toFixed(0)).join(', ')}`);
    console.log(`  same issue, no photos: median ${ms(median(bare))}  (warm/no-photos ratio ${(median(warm) / median(bare)).toFixed(2)})`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]);
else if (isMain(import.meta.url)) await run();
