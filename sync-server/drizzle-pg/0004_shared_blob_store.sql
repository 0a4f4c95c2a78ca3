CREATE TABLE "blob_chunks" (
	"sha256" text NOT NULL,
	"n" integer NOT NULL,
	"data" "bytea" NOT NULL,
	CONSTRAINT "blob_chunks_sha256_n_pk" PRIMARY KEY("sha256","n")
);
--> statement-breakpoint
CREATE TABLE "blob_contents" (
	"sha256" text PRIMARY KEY NOT NULL,
	"bytes" bigint NOT NULL,
	"chunks" integer NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "blob_upload_chunks" (
	"upload_id" text NOT NULL,
	"n" integer NOT NULL,
	"data" "bytea" NOT NULL,
	"written_at" bigint NOT NULL,
	CONSTRAINT "blob_upload_chunks_upload_id_n_pk" PRIMARY KEY("upload_id","n")
);
--> statement-breakpoint
ALTER TABLE "blob_chunks" ADD CONSTRAINT "blob_chunks_sha256_blob_contents_sha256_fk" FOREIGN KEY ("sha256") REFERENCES "public"."blob_contents"("sha256") ON DELETE cascade ON UPDATE no action;