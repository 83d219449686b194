CREATE TABLE "audit_records" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"record_key" text NOT NULL,
	"plan_id" text NOT NULL,
	"step_index" integer NOT NULL,
	"kind" text NOT NULL,
	"workload" text NOT NULL,
	"actor" text NOT NULL,
	"at" text NOT NULL,
	"body" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "plans" (
	"id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"digest" text NOT NULL,
	"plan" jsonb NOT NULL,
	"phase" text NOT NULL,
	"mode" text NOT NULL,
	"priority" integer NOT NULL,
	"requested_by" text NOT NULL,
	"status" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"id" text NOT NULL,
	"version" integer NOT NULL,
	"document" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "policies_id_version_pk" PRIMARY KEY("id","version")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "audit_record_key_idx" ON "audit_records" USING btree ("record_key");--> statement-breakpoint
CREATE INDEX "audit_plan_idx" ON "audit_records" USING btree ("plan_id");--> statement-breakpoint
CREATE INDEX "audit_workload_idx" ON "audit_records" USING btree ("workload");--> statement-breakpoint
CREATE INDEX "plans_phase_idx" ON "plans" USING btree ("phase");--> statement-breakpoint
CREATE INDEX "plans_created_idx" ON "plans" USING btree ("created_at");