import { InvalidArgumentError, Option, type Command } from 'commander';
import { issueSlugsArgument } from '../../content/slug.js';
import { displayPath } from '../../fs/display-path.js';
import { loadProject, selectIssues } from '../../pipeline.js';
import { takeScreenshots, MAX_SCREENSHOT_WIDTH, MIN_SCREENSHOT_WIDTH } from '../../preview/screenshot.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { println, type CliIo } from '../io.js';
import { describeCulprit } from '../../checks/overflow.js';

interface ScreenshotFlags extends SharedFlags {
  width: number[];
  dark?: boolean;
}

export function parseWidths(value: string): number[] {
  const widths = value.split(',').map((part) => part.trim()).filter(Boolean);
  if (!widths.length) throw new InvalidArgumentError('expected widths in pixels, e.g. 375,600');
  return widths.map((part) => {
    const width = Number(part);
    if (!/^\d+$/.test(part) || width < MIN_SCREENSHOT_WIDTH || width > MAX_SCREENSHOT_WIDTH) {
      throw new InvalidArgumentError(`\`${part}\` is not a width from ${MIN_SCREENSHOT_WIDTH} to ${MAX_SCREENSHOT_WIDTH} pixels`);
    }
    return width;
  });
}

export function registerScreenshot(program: Command, io: CliIo): void {
  addSharedOptions(
    program
      .command('screenshot')
      .description('write full-page PNGs of issues at each width with the system Chromium, network blocked')
      .argument('[issues...]', 'issue slugs; all when omitted', issueSlugsArgument)
      .addOption(new Option('--width <widths>', 'comma-separated viewport widths in CSS pixels').argParser(parseWidths).default([375, 600], '375,600'))
      .option('--dark', 'emulate a dark-mode reader (prefers-color-scheme: dark); files end in -dark.png'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ npx newsletter screenshot weekly-1                 dist/weekly-1-375.png and dist/weekly-1-600.png
  $ npx newsletter screenshot weekly-1 --width 375,600 --out shots/
  $ npx newsletter screenshot --dark --width 600       every issue, dark mode

Files are <out>/<issue>-<width>.png. Every network request is blocked, so
remote images show their alt text and screenshots are the same offline.
Uses Chromium from CHROMIUM_PATH or /usr/bin/chromium (apt-get install chromium).`,
    )
    .action(async (issues: string[], flags: ScreenshotFlags) => {
      const project = await loadProject(configRequest(flags, io));
      const slugs = await selectIssues(project, issues);
      const shots = await takeScreenshots({
        project,
        slugs,
        widths: flags.width,
        outDir: project.config.paths.out,
        env: io.env,
        dark: flags.dark ?? false,
        secret: io.env.NEWSLETTER_SECRET,
      });
      for (const shot of shots) {
        const blocked = shot.blocked ? `  ${shot.blocked} network request${shot.blocked > 1 ? 's' : ''} blocked` : '';
        // The PNG's own size: wider than asked when the email overflows the viewport.
        println(io.stdout, `${displayPath(shot.file, io.cwd)}  ${shot.pngWidth}×${shot.height}${blocked}`);
        if (shot.overflow) {
          const culprit = shot.overflow.culprit ? `; widest element: ${describeCulprit(shot.overflow.culprit)}` : '';
          println(io.stderr, `warning: ${shot.slug} is ${shot.overflow.scrollWidth} px wide at a ${shot.width} px viewport${culprit}`);
        }
      }
    });
}
