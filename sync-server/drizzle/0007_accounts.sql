CREATE TABLE `password_reset_codes` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`code_hash` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `password_reset_codes_code_hash_unique` ON `password_reset_codes` (`code_hash`);--> statement-breakpoint
CREATE INDEX `password_reset_codes_user_id` ON `password_reset_codes` (`user_id`);--> statement-breakpoint
ALTER TABLE `devices` ADD `last_sync_at` integer;--> statement-breakpoint
ALTER TABLE `devices` ADD `user_agent` text;--> statement-breakpoint
ALTER TABLE `devices` ADD `revoked_at` integer;--> statement-breakpoint
ALTER TABLE `devices` ADD `revoked_by` text;--> statement-breakpoint
ALTER TABLE `sessions` ADD `device_id` text;--> statement-breakpoint
CREATE INDEX `sessions_device_id` ON `sessions` (`device_id`);--> statement-breakpoint
CREATE INDEX `audit_log_action_at` ON `audit_log` (`action`,`at`);