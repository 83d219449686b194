CREATE TABLE "outbox_events" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"key" text NOT NULL,
	"topic" text NOT NULL,
	"type" text NOT NULL,
	"event" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"claimed_by" text,
	"claim_expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_seq_idx" ON "outbox_events" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "outbox_unsent_idx" ON "outbox_events" USING btree ("seq") WHERE "outbox_events"."sent_at" IS NULL;