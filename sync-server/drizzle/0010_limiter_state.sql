CREATE TABLE `limiter_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `limiter_attempts_scope_key_at` ON `limiter_attempts` (`scope`,`key`,`at`);--> statement-breakpoint
CREATE INDEX `limiter_attempts_scope_at` ON `limiter_attempts` (`scope`,`at`);