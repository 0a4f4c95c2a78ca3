CREATE TABLE `review_counts` (
	`team_id` text NOT NULL,
	`state` text NOT NULL,
	`disagreement` integer NOT NULL,
	`positive` integer NOT NULL,
	`models` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`team_id`, `state`, `disagreement`, `positive`, `models`)
);
--> statement-breakpoint
DROP INDEX `review_reports_village`;--> statement-breakpoint
DROP INDEX `review_reports_team_shared`;--> statement-breakpoint
DROP INDEX `review_reports_team_rank`;--> statement-breakpoint
DROP INDEX `review_reports_team_state_shared`;--> statement-breakpoint
DROP INDEX `review_reports_team_state_rank`;--> statement-breakpoint
CREATE INDEX `review_reports_team_village` ON `review_reports` (`team_id`,`village_key`,`shared_at`,`report_id`,`state`,`disagreement`,`positive`,`models`);--> statement-breakpoint
CREATE INDEX `review_reports_team_shared` ON `review_reports` (`team_id`,`shared_at`,`report_id`,`state`,`disagreement`,`positive`,`models`);--> statement-breakpoint
CREATE INDEX `review_reports_team_rank` ON `review_reports` (`team_id`,`rank`,`shared_at`,`report_id`,`state`,`disagreement`,`positive`,`models`);--> statement-breakpoint
CREATE INDEX `review_reports_team_state_shared` ON `review_reports` (`team_id`,`state`,`shared_at`,`report_id`,`disagreement`,`positive`,`models`);--> statement-breakpoint
CREATE INDEX `review_reports_team_state_rank` ON `review_reports` (`team_id`,`state`,`rank`,`shared_at`,`report_id`,`disagreement`,`positive`,`models`);--> statement-breakpoint
-- Hand-written: the counters start from the reports already indexed (keep when regenerating).
INSERT INTO `review_counts` (`team_id`, `state`, `disagreement`, `positive`, `models`, `n`) SELECT `team_id`, `state`, `disagreement`, `positive`, `models`, count(*) FROM `review_reports` GROUP BY 1, 2, 3, 4, 5;
