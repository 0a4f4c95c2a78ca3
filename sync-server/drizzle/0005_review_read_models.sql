CREATE TABLE `model_runs` (
	`diagnosis_id` text PRIMARY KEY NOT NULL,
	`team_id` text NOT NULL,
	`model_id` text NOT NULL,
	`model_version` text NOT NULL,
	`week` integer NOT NULL,
	`positive` integer NOT NULL,
	`assessment` text
);
--> statement-breakpoint
CREATE TABLE `model_weekly` (
	`team_id` text NOT NULL,
	`model_id` text NOT NULL,
	`model_version` text NOT NULL,
	`week` integer NOT NULL,
	`model_name` text NOT NULL,
	`runs` integer NOT NULL,
	`positives` integer NOT NULL,
	`assessed` integer NOT NULL,
	`agreed` integer NOT NULL,
	PRIMARY KEY(`team_id`, `model_id`, `model_version`, `week`)
);
--> statement-breakpoint
CREATE TABLE `verdict_latest` (
	`diagnosis_id` text PRIMARY KEY NOT NULL,
	`team_id` text NOT NULL,
	`model_id` text NOT NULL,
	`model_version` text NOT NULL,
	`model_positive` integer NOT NULL,
	`verdict` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `verdict_latest_team_at` ON `verdict_latest` (`team_id`,`at`,`model_id`,`model_version`,`model_positive`,`verdict`);--> statement-breakpoint
DROP INDEX `review_diagnoses_model`;--> statement-breakpoint
DROP INDEX `review_diagnoses_team_ran`;--> statement-breakpoint
DROP INDEX `review_reports_team_first`;--> statement-breakpoint
ALTER TABLE `review_reports` ADD `models` text DEFAULT '' NOT NULL;--> statement-breakpoint
DROP INDEX `review_verdicts_team_at`;--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_clinician_activity` (
	`team_id` text NOT NULL,
	`user_id` text NOT NULL,
	`week` integer NOT NULL,
	`encounters` integer DEFAULT 0 NOT NULL,
	`shared` integer DEFAULT 0 NOT NULL,
	`returned` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`team_id`, `user_id`, `week`)
);
--> statement-breakpoint
INSERT INTO `__new_clinician_activity`("team_id", "user_id", "week", "encounters") SELECT "team_id", "user_id", "week", "encounters" FROM `clinician_activity`;--> statement-breakpoint
DROP TABLE `clinician_activity`;--> statement-breakpoint
ALTER TABLE `__new_clinician_activity` RENAME TO `clinician_activity`;--> statement-breakpoint
PRAGMA foreign_keys=ON;