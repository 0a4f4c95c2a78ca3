/** What the services need from devices a user synced from, and their revocation. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as its services move (issue 17)
export interface DevicesRepository {}
