/**
 * Paraglide's compile options, shared by the Vite build, Vitest and `npm run i18n:compile` (keep
 * that script's flags the same). The language is the one chosen in Settings on this device
 * (localStorage), else the browser's, else English.
 *
 * @type {{ project: string, outdir: string, strategy: ('localStorage' | 'preferredLanguage' | 'baseLocale')[] }}
 */
export const PARAGLIDE = {
  project: './project.inlang',
  outdir: './src/lib/paraglide',
  strategy: ['localStorage', 'preferredLanguage', 'baseLocale'],
};
