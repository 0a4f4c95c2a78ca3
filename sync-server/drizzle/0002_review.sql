CREATE TABLE `clinician_activity` (
	`team_id` text NOT NULL,
	`user_id` text NOT NULL,
	`week` integer NOT NULL,
	`encounters` integer NOT NULL,
	PRIMARY KEY(`team_id`, `user_id`, `week`)
);
--> statement-breakpoint
CREATE TABLE `review_diagnoses` (
	`report_id` text NOT NULL,
	`diagnosis_id` text NOT NULL,
	`team_id` text NOT NULL,
	`model_id` text NOT NULL,
	`model_version` text NOT NULL,
	`model_name` text NOT NULL,
	`positive` integer NOT NULL,
	`assessment` text,
	`image_sha256` text,
	`ran_at` integer NOT NULL,
	PRIMARY KEY(`report_id`, `diagnosis_id`)
);
--> statement-breakpoint
CREATE INDEX `review_diagnoses_diagnosis` ON `review_diagnoses` (`diagnosis_id`);--> statement-breakpoint
CREATE INDEX `review_diagnoses_model` ON `review_diagnoses` (`model_id`,`positive`,`report_id`);--> statement-breakpoint
CREATE INDEX `review_diagnoses_image` ON `review_diagnoses` (`image_sha256`);--> statement-breakpoint
CREATE INDEX `review_diagnoses_team_ran` ON `review_diagnoses` (`team_id`,`ran_at`,`model_id`,`model_version`,`diagnosis_id`,`positive`,`assessment`);--> statement-breakpoint
CREATE TABLE `review_events` (
	`review_id` text PRIMARY KEY NOT NULL,
	`report_id` text NOT NULL,
	`team_id` text NOT NULL,
	`revision` integer NOT NULL,
	`decision` text NOT NULL,
	`author_id` text NOT NULL,
	`at` integer NOT NULL,
	`revision_shared_at` integer NOT NULL,
	`first_of_revision` integer NOT NULL,
	`snapshot` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `review_events_report` ON `review_events` (`report_id`,`at`);--> statement-breakpoint
CREATE INDEX `review_events_team_at` ON `review_events` (`team_id`,`at`,`first_of_revision`,`revision_shared_at`);--> statement-breakpoint
CREATE TABLE `review_refs` (
	`table_name` text NOT NULL,
	`id` text NOT NULL,
	`report_id` text NOT NULL,
	PRIMARY KEY(`table_name`, `id`)
);
--> statement-breakpoint
CREATE INDEX `review_refs_report` ON `review_refs` (`report_id`,`table_name`);--> statement-breakpoint
CREATE TABLE `review_reports` (
	`report_id` text PRIMARY KEY NOT NULL,
	`team_id` text NOT NULL,
	`patient_id` text NOT NULL,
	`encounter_id` text,
	`clinician_id` text NOT NULL,
	`patient_name` text NOT NULL,
	`sex` text NOT NULL,
	`birth_date` text,
	`village` text NOT NULL,
	`village_key` text NOT NULL,
	`revision` integer NOT NULL,
	`state` text NOT NULL,
	`shared_at` integer NOT NULL,
	`first_shared_at` integer NOT NULL,
	`reviewed_at` integer,
	`ever_returned` integer NOT NULL,
	`positive` integer NOT NULL,
	`abnormal` integer NOT NULL,
	`disagreement` integer NOT NULL,
	`priority` integer NOT NULL,
	`rank` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `review_reports_team_shared` ON `review_reports` (`team_id`,`shared_at`,`report_id`);--> statement-breakpoint
CREATE INDEX `review_reports_team_rank` ON `review_reports` (`team_id`,`rank`,`shared_at`,`report_id`);--> statement-breakpoint
CREATE INDEX `review_reports_team_state_shared` ON `review_reports` (`team_id`,`state`,`shared_at`,`report_id`);--> statement-breakpoint
CREATE INDEX `review_reports_team_state_rank` ON `review_reports` (`team_id`,`state`,`rank`,`shared_at`,`report_id`);--> statement-breakpoint
CREATE INDEX `review_reports_team_first` ON `review_reports` (`team_id`,`first_shared_at`,`clinician_id`,`ever_returned`);--> statement-breakpoint
CREATE INDEX `review_reports_clinician` ON `review_reports` (`clinician_id`,`shared_at`);--> statement-breakpoint
CREATE INDEX `review_reports_village` ON `review_reports` (`village_key`);--> statement-breakpoint
CREATE INDEX `review_reports_patient` ON `review_reports` (`patient_id`);--> statement-breakpoint
CREATE INDEX `review_reports_encounter` ON `review_reports` (`encounter_id`);--> statement-breakpoint
CREATE TABLE `review_verdicts` (
	`review_id` text NOT NULL,
	`diagnosis_id` text NOT NULL,
	`report_id` text NOT NULL,
	`team_id` text NOT NULL,
	`model_id` text NOT NULL,
	`model_version` text NOT NULL,
	`model_positive` integer NOT NULL,
	`verdict` text NOT NULL,
	`reference_outcome` text,
	`at` integer NOT NULL,
	PRIMARY KEY(`review_id`, `diagnosis_id`)
);
--> statement-breakpoint
CREATE INDEX `review_verdicts_team_at` ON `review_verdicts` (`team_id`,`at`);--> statement-breakpoint
CREATE INDEX `review_verdicts_diagnosis` ON `review_verdicts` (`diagnosis_id`,`at`);--> statement-breakpoint
ALTER TABLE `devices` ADD `last_push_at` integer;