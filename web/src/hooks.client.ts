import { config } from 'zod';

// zod 4 probes whether it may compile parsers with `new Function` on its first object parse; the
// app's CSP (no 'unsafe-eval') refuses, which Chromium reports as a CSP violation on every page.
// Parsing without that JIT is what happens under this CSP anyway.
config({ jitless: true });
