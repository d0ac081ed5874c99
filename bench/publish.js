/**
 * Issue 9 target: `newsletter publish` of 100 issues in under 5 s. Each run is the real CLI in a
 * fresh process (MJML's load included) on a project of 100 issues made from the example's
 * article; "full" starts from an empty site, "unchanged" reruns over it (renders everything,
 * writes nothing). Medians of several runs.
 */
import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isMain, median } from "./stats.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function project(issues) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "nl-bench-publish-"));
  cpSync(
    path.join(ROOT, "content/articles"),
    path.join(dir, "content/articles"),
    { recursive: true },
  );
  mkdirSync(path.join(dir, "content/issues"), { recursive: true });
  writeFileSync(
    path.join(dir, "newsletter.config.json"),
    readFileSync(path.join(ROOT, "newsletter.config.json")),
  );
  const example = readFileSync(
    path.join(ROOT, "content/issues/weekly-1.md"),
    "utf8",
  );
  for (let i = 1; i <= issues; i++) {
    const day = new Date(Date.UTC(2022, 0, 1) + i * 7 * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const text = example
      .replace(/^subject: .*$/m, `subject: "Dispatch number ${i}"`)
      .replace(/^date: .*$/m, `date: ${day}`);
    writeFileSync(
      path.join(
        dir,
        "content/issues",
        `issue-${String(i).padStart(3, "0")}.md`,
      ),
      text,
    );
  }
  return dir;
}

function publish(dir) {
  const t = performance.now();
  const out = execFileSync(
    process.execPath,
    [
      path.join(ROOT, "bin/newsletter.js"),
      "publish",
      "--templates",
      path.join(ROOT, "templates"),
    ],
    { cwd: dir, encoding: "utf8" },
  );
  return { ms: performance.now() - t, out: out.trim().split("\n")[0] };
}

export async function run({ issues = 100, runs = 3 } = {}) {
  const dir = project(issues);
  const full = [];
  const unchanged = [];
  let lastFull = "";
  let lastUnchanged = "";
  for (let r = 0; r < runs; r++) {
    rmSync(path.join(dir, "dist"), { recursive: true, force: true });
    const a = publish(dir);
    full.push(a.ms);
    lastFull = a.out;
    const b = publish(dir);
    unchanged.push(b.ms);
    lastUnchanged = b.out;
  }
  return {
    issues,
    fullMedianMs: Math.round(median(full)),
    fullRunsMs: full.map(Math.round),
    unchangedMedianMs: Math.round(median(unchanged)),
    unchangedRunsMs: unchanged.map(Math.round),
    lastFull,
    lastUnchanged,
    target: "< 5000 ms for 100 issues",
  };
}

if (isMain(import.meta.url)) {
  const r = await run();
  console.log(
    `publish ${r.issues} issues, fresh process, empty site: ${r.fullMedianMs} ms median [${r.fullRunsMs.join(", ")}] (target ${r.target})`,
  );
  console.log(`  ${r.lastFull}`);
  console.log(
    `rerun with nothing changed: ${r.unchangedMedianMs} ms median [${r.unchangedRunsMs.join(", ")}]`,
  );
  console.log(`  ${r.lastUnchanged}`);
}
