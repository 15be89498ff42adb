DROP TABLE login_throttle;
--bun:split
DROP TABLE api_keys;
--bun:split
DROP TABLE account_tokens;
--bun:split
DROP TABLE sessions;
--bun:split
DROP TABLE staff_invitations;
--bun:split
DROP TABLE staff_members;
--bun:split
DROP TABLE customer_tags;
--bun:split
DROP TABLE customer_group_members;
--bun:split
DROP TABLE customer_groups;
--bun:split
DROP TABLE customer_addresses;
--bun:split
DROP TABLE customers;
--bun:split
DROP TABLE authz_seeded;
--bun:split
DROP TABLE authz_roles;
--bun:split
DROP TABLE casbin_rule;
