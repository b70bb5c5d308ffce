-- Whether the expert's routing profile has been published (ExpertProfileChanged, which QA routes
-- reviews by). Registration publishes it in its own transaction; experts registered before that
-- existed are announced once, in batches, when tasking starts (app/experts.announce_profiles).
ALTER TABLE experts ADD COLUMN profile_announced boolean NOT NULL DEFAULT false;
CREATE INDEX experts_unannounced ON experts (expert_id) WHERE NOT profile_announced;
