/** What the services need from the review dashboard and exports (review read side). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as its services move (issue 17)
export interface ReviewReportsRepository {}
