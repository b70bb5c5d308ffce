-- Routing bars an expert from a project once QA is confident they are below its minimum quality:
-- the upper bound of QA's 90 % credible interval, not its mean. Gating on the mean barred experts
-- whose estimate dipped under the bar after a few judgments (a 0.68 expert under a 0.6 minimum),
-- and a barred expert gathers no more evidence to climb back. Rows stored before this migration
-- keep their mean as the bound until QA's next update of them (the stricter reading).
ALTER TABLE expert_quality ADD COLUMN upper double precision;
UPDATE expert_quality SET upper = mean;
ALTER TABLE expert_quality ALTER COLUMN upper SET NOT NULL;
