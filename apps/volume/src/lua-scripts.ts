/**
 * The atomic read-check-write steps of the volume service, run in Redis. Replies are arrays whose
 * first element is a code: 1 done, 0 refused by status (second element: the status found), -1 not
 * found, other codes per script. Allowed status transitions come in as JSON rows of the pure state
 * machine (`transitionsOf`), so Redis and @minicloud/domain-volume cannot drift apart.
 */

/**
 * KEYS: volume, project volumes set, all volumes set, then one pool per copy. ARGV: size_gb, id,
 * copy count n, n max provisioned gb (one per pool), then field/value pairs. Claims `size_gb` on every
 * pool or on none. Reply {1} or {0, index of the full pool (1-based), its provisioned_gb}.
 */
export const CREATE_VOLUME = `
local size = tonumber(ARGV[1])
local n = tonumber(ARGV[3])
for i = 1, n do
  local prov = tonumber(redis.call('HGET', KEYS[3 + i], 'provisioned_gb') or '0')
  if prov + size > tonumber(ARGV[3 + i]) then return {0, i, prov} end
end
for i = 1, n do redis.call('HINCRBY', KEYS[3 + i], 'provisioned_gb', size) end
redis.call('HSET', KEYS[1], unpack(ARGV, 4 + n))
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[2])
return {1}
`;

/**
 * KEYS: pools. ARGV: size_gb, then one max provisioned gb per pool. All or nothing.
 * Reply {1} or {0, index of the full pool (1-based), its provisioned_gb}.
 */
export const CLAIM_POOLS = `
local size = tonumber(ARGV[1])
for i = 1, #KEYS do
  local prov = tonumber(redis.call('HGET', KEYS[i], 'provisioned_gb') or '0')
  if prov + size > tonumber(ARGV[1 + i]) then return {0, i, prov} end
end
for i = 1, #KEYS do redis.call('HINCRBY', KEYS[i], 'provisioned_gb', size) end
return {1}
`;

/** KEYS: pools. ARGV: size_gb. Releases `size_gb` on each pool. Reply {1}. */
export const RELEASE_POOLS = `
for i = 1, #KEYS do redis.call('HINCRBY', KEYS[i], 'provisioned_gb', -tonumber(ARGV[1])) end
return {1}
`;

/** KEYS: volume. ARGV: transitions JSON. Reply {1, from, to} | {0, status} | {-1}. */
export const TRANSITION = `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {-1} end
local to = cjson.decode(ARGV[1])[st]
if not to then return {0, st} end
redis.call('HSET', KEYS[1], 'status', to)
return {1, st, to}
`;

/**
 * KEYS: a volume's or a snapshot's hash. ARGV: JSON object of hash fields to set (name,
 * description, flags, updated_at_ms), JSON list of metadata keys to remove, JSON object of metadata
 * to set (after the removals), max metadata items. A deleting record is refused. Reply {1} |
 * {0, status} | {-1} | {2, item count} over the max (nothing written).
 */
export const UPDATE_VOLUME = `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {-1} end
if st == 'deleting' then return {0, st} end
local raw = redis.call('HGET', KEYS[1], 'metadata')
local m = {}
if raw and raw ~= '' then m = cjson.decode(raw) end
for _, k in ipairs(cjson.decode(ARGV[2])) do m[k] = nil end
for k, v in pairs(cjson.decode(ARGV[3])) do m[k] = v end
local n = 0
for _ in pairs(m) do n = n + 1 end
if n > tonumber(ARGV[4]) then return {2, n} end
for k, v in pairs(cjson.decode(ARGV[1])) do redis.call('HSET', KEYS[1], k, v) end
if n == 0 then redis.call('HSET', KEYS[1], 'metadata', '{}') else redis.call('HSET', KEYS[1], 'metadata', cjson.encode(m)) end
return {1}
`;
/**
 * KEYS: volume, then the pools of its copies. ARGV: extend_started JSON, new size_gb, one max
 * provisioned gb per pool. Reply {1, from, to, old_size} | {0, status} | {-1} | {2, old_size} not
 * larger | {3, provisioned, pool index} full.
 */
export const EXTEND_VOLUME = `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {-1} end
local to = cjson.decode(ARGV[1])[st]
if not to then return {0, st} end
local old = tonumber(redis.call('HGET', KEYS[1], 'size_gb'))
local new = tonumber(ARGV[2])
if new <= old then return {2, old} end
for i = 2, #KEYS do
  local prov = tonumber(redis.call('HGET', KEYS[i], 'provisioned_gb') or '0')
  if prov + new - old > tonumber(ARGV[1 + i]) then return {3, prov, i - 1} end
end
for i = 2, #KEYS do redis.call('HINCRBY', KEYS[i], 'provisioned_gb', new - old) end
redis.call('HSET', KEYS[1], 'size_gb', new, 'status', to)
return {1, st, to, old}
`;

/**
 * KEYS: volume, attachments hash, snapshots set. ARGV: delete_started JSON. First phase of a delete:
 * the volume goes to deleting (its data is dropped next, then FINISH_DELETE removes the record).
 * Reply {1, status} | {0, status} | {-1} | {2, snapshot count} | {3, attachment count}.
 */
export const DELETE_VOLUME = `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {-1} end
local to = cjson.decode(ARGV[1])[st]
if not to then return {0, st} end
local snaps = redis.call('SCARD', KEYS[3])
if snaps > 0 then return {2, snaps} end
local atts = redis.call('HLEN', KEYS[2])
if atts > 0 then return {3, atts} end
redis.call('HSET', KEYS[1], 'status', to)
return {1, st}
`;

/**
 * KEYS: volume, attachments hash, instances hash, snapshots set, project set, all set, then the pools
 * of its copies. ARGV: volume id. Only from deleting: releases size_gb on each pool and removes every
 * key. Reply {1} | {0, status} | {-1}.
 */
export const FINISH_DELETE = `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {-1} end
if st ~= 'deleting' then return {0, st} end
local size = tonumber(redis.call('HGET', KEYS[1], 'size_gb'))
for i = 7, #KEYS do redis.call('HINCRBY', KEYS[i], 'provisioned_gb', -size) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('SREM', KEYS[6], ARGV[1])
return {1}
`;

/**
 * KEYS: volume, attachments hash (id -> attach_status), instances hash (instance -> attachment id),
 * attachment, instance's attachments set, host's attachments set. ARGV: attachment_reserved JSON, multiattach_reserved JSON,
 * attachment id, instance id, then attachment field/value pairs.
 * The instance's existing attachment is checked first, so a retry is idempotent whatever the status.
 * Reply {1, from, to} | {0, status} | {-1} | {2, existing attachment id}.
 */
export const CREATE_ATTACHMENT = `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {-1} end
local existing = redis.call('HGET', KEYS[3], ARGV[4])
if existing then return {2, existing} end
local n = redis.call('HLEN', KEYS[2])
local to = nil
if n == 0 then to = cjson.decode(ARGV[1])[st] end
if not to and redis.call('HGET', KEYS[1], 'multiattach') == '1' then to = cjson.decode(ARGV[2])[st] end
if not to then return {0, st} end
redis.call('HSET', KEYS[1], 'status', to)
redis.call('HSET', KEYS[2], ARGV[3], 'reserved')
redis.call('HSET', KEYS[3], ARGV[4], ARGV[3])
redis.call('HSET', KEYS[4], unpack(ARGV, 5))
redis.call('SADD', KEYS[5], ARGV[3])
redis.call('SADD', KEYS[6], ARGV[3])
return {1, st, to}
`;

/**
 * KEYS: attachment, its current host's attachments set, the new host's set. ARGV: attachment id, new host id,
 * expected current host id. Re-points an attachment at another host (Cinder's attachment_update with a new
 * connector: the instance moved), keeping its status and the volume's. Reply 1 moved | 0 gone | -2 the host
 * changed meanwhile (re-read and retry).
 */
export const MOVE_ATTACHMENT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'host_id') ~= ARGV[3] then return -2 end
redis.call('HSET', KEYS[1], 'host_id', ARGV[2])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`;

/**
 * KEYS: attachment, volume, attachments hash. ARGV: attachment_completed JSON, attachment id, attached_at ms.
 * Reply {1, from, to} | {0, status} | {-1} | {2, status} already attached (idempotent).
 */
export const COMPLETE_ATTACHMENT = `
local as = redis.call('HGET', KEYS[1], 'attach_status')
if not as then return {-1} end
local st = redis.call('HGET', KEYS[2], 'status')
if not st then return {-1} end
if as == 'attached' then return {2, st} end
local to = cjson.decode(ARGV[1])[st]
if not to then return {0, st} end
redis.call('HSET', KEYS[1], 'attach_status', 'attached', 'attached_at_ms', ARGV[3])
redis.call('HSET', KEYS[3], ARGV[2], 'attached')
redis.call('HSET', KEYS[2], 'status', to)
return {1, st, to}
`;

/**
 * KEYS: attachment, volume, attachments hash, instances hash, instance's attachments set, host's
 * attachments set. ARGV: attachment id, instance id, the host id KEYS[6] belongs to (the attachment may have
 * moved since it was read: then {-2}, re-read and retry). The new status follows `statusForAttachments` of the pure lib:
 * any attached/detaching left -> in-use, only reserved -> attaching, none -> available.
 * Reply {1, from, to} | {-1}.
 */
export const DELETE_ATTACHMENT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
if ARGV[3] and redis.call('HGET', KEYS[1], 'host_id') ~= ARGV[3] then return {-2} end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[4], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[4], ARGV[2]) end
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('SREM', KEYS[6], ARGV[1])
local to = 'available'
for _, s in ipairs(redis.call('HVALS', KEYS[3])) do
  if s ~= 'reserved' then to = 'in-use' elseif to == 'available' then to = 'attaching' end
end
local st = redis.call('HGET', KEYS[2], 'status')
if not st then return {1, '', ''} end
redis.call('HSET', KEYS[2], 'status', to)
return {1, st, to}
`;

/**
 * KEYS: volume, pool, snapshot, volume's snapshots set, project snapshots set.
 * ARGV: allowed-status JSON, max provisioned gb, snapshot id, then snapshot field/value pairs (size
 * is taken from the volume here). Reply {1, size_gb} | {0, status} | {-1} | {3, provisioned, size}.
 */
export const CREATE_SNAPSHOT = `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {-1} end
if not cjson.decode(ARGV[1])[st] then return {0, st} end
local size = tonumber(redis.call('HGET', KEYS[1], 'size_gb'))
local prov = tonumber(redis.call('HGET', KEYS[2], 'provisioned_gb') or '0')
if prov + size > tonumber(ARGV[2]) then return {3, prov, size} end
redis.call('HINCRBY', KEYS[2], 'provisioned_gb', size)
redis.call('HSET', KEYS[3], 'size_gb', size, unpack(ARGV, 4))
redis.call('SADD', KEYS[4], ARGV[3])
redis.call('SADD', KEYS[5], ARGV[3])
return {1, size}
`;

/** KEYS: snapshot, pool, volume's snapshots set, project snapshots set. ARGV: snapshot id. Reply {1} | {-1}. */
export const DELETE_SNAPSHOT = `
local size = redis.call('HGET', KEYS[1], 'size_gb')
if not size then return {-1} end
redis.call('HINCRBY', KEYS[2], 'provisioned_gb', -tonumber(size))
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
return {1}
`;
