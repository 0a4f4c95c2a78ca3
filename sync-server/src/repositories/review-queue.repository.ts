/** What the services need from the supervisor's queue and a report's bundle (review read side). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as its services move (issue 17)
export interface ReviewQueueRepository {}
