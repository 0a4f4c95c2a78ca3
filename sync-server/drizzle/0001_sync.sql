CREATE TABLE `applied_mutations` (
	`device_id` text NOT NULL,
	`mutation_id` text NOT NULL,
	`user_id` text NOT NULL,
	`result` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`device_id`, `mutation_id`)
);
--> statement-breakpoint
CREATE TABLE `blob_teams` (
	`sha256` text NOT NULL,
	`team_id` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`sha256`, `team_id`),
	FOREIGN KEY (`sha256`) REFERENCES `blobs`(`sha256`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `blobs` (
	`sha256` text PRIMARY KEY NOT NULL,
	`bytes` integer NOT NULL,
	`mime` text NOT NULL,
	`team_id` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `conflicts` (
	`id` text PRIMARY KEY NOT NULL,
	`table_name` text NOT NULL,
	`record_id` text NOT NULL,
	`team_id` text NOT NULL,
	`device_id` text NOT NULL,
	`user_id` text NOT NULL,
	`mutation_id` text NOT NULL,
	`base_version` integer NOT NULL,
	`server_version` integer NOT NULL,
	`fields` text NOT NULL,
	`data` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`resolved_at` integer,
	`resolved_by_mutation` text,
	CONSTRAINT "conflicts_status" CHECK("conflicts"."status" in ('open', 'resolved'))
);
--> statement-breakpoint
CREATE INDEX `conflicts_team_status` ON `conflicts` (`team_id`,`status`);--> statement-breakpoint
CREATE INDEX `conflicts_record` ON `conflicts` (`table_name`,`record_id`);--> statement-breakpoint
CREATE TABLE `devices` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`last_pulled_cursor` integer,
	`scope` text
);
--> statement-breakpoint
CREATE TABLE `record_history` (
	`seq` integer PRIMARY KEY NOT NULL,
	`table_name` text NOT NULL,
	`id` text NOT NULL,
	`version` integer NOT NULL,
	`team_id` text NOT NULL,
	`data` text NOT NULL,
	`deleted` integer NOT NULL,
	`at` integer NOT NULL,
	`by` text NOT NULL,
	`device_id` text NOT NULL,
	`mutation_id` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `record_history_version` ON `record_history` (`table_name`,`id`,`version`);--> statement-breakpoint
CREATE TABLE `records` (
	`seq` integer PRIMARY KEY NOT NULL,
	`table_name` text NOT NULL,
	`id` text NOT NULL,
	`team_id` text NOT NULL,
	`version` integer NOT NULL,
	`deleted` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`updated_by` text NOT NULL,
	`data` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `records_table_id` ON `records` (`table_name`,`id`);