CREATE TABLE `team_model_settings` (
	`team_id` text NOT NULL,
	`model_id` text NOT NULL,
	`prevalence` real NOT NULL,
	`updated_at` integer NOT NULL,
	`updated_by` text NOT NULL,
	PRIMARY KEY(`team_id`, `model_id`),
	FOREIGN KEY (`team_id`) REFERENCES `teams`(`id`) ON UPDATE no action ON DELETE cascade
);
