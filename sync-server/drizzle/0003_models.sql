CREATE TABLE `model_versions` (
	`id` text NOT NULL,
	`version` text NOT NULL,
	`name` text NOT NULL,
	`modality` text NOT NULL,
	`task` text NOT NULL,
	`bytes` integer NOT NULL,
	`sha256` text NOT NULL,
	`status` text NOT NULL,
	`release_notes` text DEFAULT '' NOT NULL,
	`manifest` text NOT NULL,
	`files` text NOT NULL,
	`source` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`activated_at` integer,
	PRIMARY KEY(`id`, `version`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `model_versions_one_active` ON `model_versions` (`id`) WHERE "model_versions"."status" = 'active';