-- Member tokens (SPEC §4b): the claims a newsroom's site reads about a
-- patron, by the membership rules of 20_membership.sql. One STABLE
-- function, so `member`, `tier` and `vote_weight` come from one snapshot
-- and cannot disagree.

-- {sub, member, member_until, tier, vote_weight}. The tier is the one
-- that gives the vote weight (the best among the membership pledges'
-- tiers, chosen as pledge_tier() does), NULL without tiers or
-- membership; a non-member's vote weight is 0.
CREATE OR REPLACE FUNCTION member_token_claims(patron uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'sub', patron,
    'member', (m->>'member')::boolean,
    'member_until', m->'member_until',
    'tier', (SELECT t.name FROM pledges p JOIN tiers t ON t.id = pledge_tier(p)
              WHERE p.patron_id = patron AND pledge_is_membership(p)
              ORDER BY t.vote_weight DESC, t.amount_minor DESC, t.seq LIMIT 1),
    'vote_weight', coalesce(patron_member_weight(patron), 0))
  FROM patron_membership(patron) AS m
$$;
