import type { ResolvedConfig } from './config/defaults.js';
import type { TemplateSet } from './render/templates.js';

/**
 * What every stage after loading works on: the resolved config and the loaded templates. It lives
 * below the stages (not in pipeline.ts) so checks, send and preview can share it without
 * importing the file that wires them together.
 */
export interface Project {
  config: ResolvedConfig;
  templates: TemplateSet;
}
