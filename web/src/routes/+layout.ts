// A single-page app: everything renders in the browser (the device holds the data).
export const ssr = false;
export const prerender = false;
