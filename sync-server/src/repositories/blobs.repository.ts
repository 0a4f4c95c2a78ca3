/** What the services need from blob metadata (blobs, blob_teams); the bytes are in a BlobStore. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as its services move (issue 17)
export interface BlobsRepository {}
