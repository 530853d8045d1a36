-- The tables Kamailio's modules read (from Debian's kamailio-postgres-modules, 5.6):
-- version (module table versions), subscriber (auth_db), dbaliases (alias_db),
-- usr_preferences (avpops), dialplan (dialplan), location (usrloc), dispatcher (dispatcher),
-- address (permissions), acc, missed_calls and acc_cdrs (acc: call records), dialog and
-- dialog_vars (dialog: calls in progress); and agentdesk's own tables that kamailio.cfg reads
-- with sqlops: agentdesk_calendar (working time) and agentdesk_did (incoming numbers). Apply
-- it to Kamailio's own PostgreSQL database.

CREATE TABLE version (
    id SERIAL PRIMARY KEY NOT NULL,
    table_name VARCHAR(32) NOT NULL,
    table_version INTEGER DEFAULT 0 NOT NULL,
    CONSTRAINT version_table_name_idx UNIQUE (table_name)
);

INSERT INTO version (table_name, table_version) values ('version','1');


CREATE TABLE subscriber (
    id SERIAL PRIMARY KEY NOT NULL,
    username VARCHAR(64) DEFAULT '' NOT NULL,
    domain VARCHAR(64) DEFAULT '' NOT NULL,
    password VARCHAR(64) DEFAULT '' NOT NULL,
    ha1 VARCHAR(128) DEFAULT '' NOT NULL,
    ha1b VARCHAR(128) DEFAULT '' NOT NULL,
    CONSTRAINT subscriber_account_idx UNIQUE (username, domain)
);

CREATE INDEX subscriber_username_idx ON subscriber (username);

INSERT INTO version (table_name, table_version) values ('subscriber','7');


CREATE TABLE dbaliases (
    id SERIAL PRIMARY KEY NOT NULL,
    alias_username VARCHAR(64) DEFAULT '' NOT NULL,
    alias_domain VARCHAR(64) DEFAULT '' NOT NULL,
    username VARCHAR(64) DEFAULT '' NOT NULL,
    domain VARCHAR(64) DEFAULT '' NOT NULL
);

CREATE INDEX dbaliases_alias_user_idx ON dbaliases (alias_username);
CREATE INDEX dbaliases_alias_idx ON dbaliases (alias_username, alias_domain);
CREATE INDEX dbaliases_target_idx ON dbaliases (username, domain);

INSERT INTO version (table_name, table_version) values ('dbaliases','1');


CREATE TABLE usr_preferences (
    id SERIAL PRIMARY KEY NOT NULL,
    uuid VARCHAR(64) DEFAULT '' NOT NULL,
    username VARCHAR(255) DEFAULT 0 NOT NULL,
    domain VARCHAR(64) DEFAULT '' NOT NULL,
    attribute VARCHAR(32) DEFAULT '' NOT NULL,
    type INTEGER DEFAULT 0 NOT NULL,
    value VARCHAR(128) DEFAULT '' NOT NULL,
    last_modified TIMESTAMP WITHOUT TIME ZONE DEFAULT '2000-01-01 00:00:01' NOT NULL
);

CREATE INDEX usr_preferences_ua_idx ON usr_preferences (uuid, attribute);
CREATE INDEX usr_preferences_uda_idx ON usr_preferences (username, domain, attribute);

INSERT INTO version (table_name, table_version) values ('usr_preferences','2');


-- Kamailio's dialplan table, but for the width of match_exp and subst_exp: agentdesk writes
-- phonenumbers' patterns there (tasks/pbx/dialplan.py), longer than the stock 64 characters
-- (Vietnam's mobile pattern alone is over 120). Kamailio reads them as plain strings.
CREATE TABLE dialplan (
    id SERIAL PRIMARY KEY NOT NULL,
    dpid INTEGER NOT NULL,
    pr INTEGER NOT NULL,
    match_op INTEGER NOT NULL,
    match_exp VARCHAR(1024) NOT NULL,
    match_len INTEGER NOT NULL,
    subst_exp VARCHAR(1024) NOT NULL,
    repl_exp VARCHAR(256) NOT NULL,
    attrs VARCHAR(64) NOT NULL
);

INSERT INTO version (table_name, table_version) values ('dialplan','2');


-- The organisation's working time, written by agentdesk (tasks/pbx/calendar.py) and read by
-- kamailio.cfg at each outgoing call: kind 'work' (a weekly period) or 'holiday' (a day
-- off), rec a tmrec time recurrence in UTC.
CREATE TABLE agentdesk_calendar (
    id SERIAL PRIMARY KEY,
    kind VARCHAR(10) NOT NULL,
    rec VARCHAR(255) NOT NULL
);

-- Registrations (usrloc, db_mode 1: written through), so a restart keeps devices reachable.
CREATE TABLE location (
    id SERIAL PRIMARY KEY NOT NULL,
    ruid VARCHAR(64) DEFAULT '' NOT NULL,
    username VARCHAR(64) DEFAULT '' NOT NULL,
    domain VARCHAR(64) DEFAULT NULL,
    contact VARCHAR(512) DEFAULT '' NOT NULL,
    received VARCHAR(128) DEFAULT NULL,
    path VARCHAR(512) DEFAULT NULL,
    expires TIMESTAMP WITHOUT TIME ZONE DEFAULT '2030-05-28 21:32:15' NOT NULL,
    q REAL DEFAULT 1.0 NOT NULL,
    callid VARCHAR(255) DEFAULT 'Default-Call-ID' NOT NULL,
    cseq INTEGER DEFAULT 1 NOT NULL,
    last_modified TIMESTAMP WITHOUT TIME ZONE DEFAULT '2000-01-01 00:00:01' NOT NULL,
    flags INTEGER DEFAULT 0 NOT NULL,
    cflags INTEGER DEFAULT 0 NOT NULL,
    user_agent VARCHAR(255) DEFAULT '' NOT NULL,
    socket VARCHAR(64) DEFAULT NULL,
    methods INTEGER DEFAULT NULL,
    instance VARCHAR(255) DEFAULT NULL,
    reg_id INTEGER DEFAULT 0 NOT NULL,
    server_id INTEGER DEFAULT 0 NOT NULL,
    connection_id INTEGER DEFAULT 0 NOT NULL,
    keepalive INTEGER DEFAULT 0 NOT NULL,
    partition INTEGER DEFAULT 0 NOT NULL,
    CONSTRAINT location_ruid_idx UNIQUE (ruid)
);
CREATE INDEX location_account_contact_idx ON location (username, domain, contact);
CREATE INDEX location_expires_idx ON location (expires);
CREATE INDEX location_connection_idx ON location (server_id, connection_id);
INSERT INTO version (table_name, table_version) values ('location','9');

-- The carriers' trunks (dispatcher set 1), written by agentdesk (tasks/pbx/kamailio.py):
-- Kamailio's dispatcher table, but for the widths of attrs and description: attrs holds the
-- trunk's name, number and credentials percent-encoded (a Vietnamese name triples in
-- length), description its name (up to 100 characters). Kamailio reads them as strings.
CREATE TABLE dispatcher (
    id SERIAL PRIMARY KEY NOT NULL,
    setid INTEGER DEFAULT 0 NOT NULL,
    destination VARCHAR(192) DEFAULT '' NOT NULL,
    flags INTEGER DEFAULT 0 NOT NULL,
    priority INTEGER DEFAULT 0 NOT NULL,
    attrs VARCHAR(4096) DEFAULT '' NOT NULL,
    description VARCHAR(128) DEFAULT '' NOT NULL
);

INSERT INTO version (table_name, table_version) values ('dispatcher','4');

-- The carriers' signalling addresses (group 1), trusted for incoming calls (permissions);
-- Kamailio's address table, but for the width of tag (the trunk's name).
CREATE TABLE address (
    id SERIAL PRIMARY KEY NOT NULL,
    grp INTEGER DEFAULT 1 NOT NULL,
    ip_addr VARCHAR(50) NOT NULL,
    mask INTEGER DEFAULT 32 NOT NULL,
    port SMALLINT DEFAULT 0 NOT NULL,
    tag VARCHAR(128)
);

INSERT INTO version (table_name, table_version) values ('address','6');

-- Incoming numbers (DIDs), written by agentdesk: a call from a carrier to `number` (E.164)
-- rings `extension`.
CREATE TABLE agentdesk_did (
    number VARCHAR(32) PRIMARY KEY,
    extension VARCHAR(32) NOT NULL
);

-- Call records (acc), read by agentdesk (tasks/pbx/records.py). Kamailio's tables with the
-- extra columns of kamailio.cfg's db_extra / cdr_extra: caller (the caller's SIP username or
-- number), callee (the number or extension as dialled), caller_agent and callee_agent (the
-- agents the call's dialog names), src_ip (where the request came from); time_exact (seconds
-- since 1970, to the millisecond: acc's time_mode 2). `time` is UTC (Kamailio runs with TZ=UTC).
-- acc: each INVITE the proxy relayed, answered (2xx) or not, and each BYE.
CREATE TABLE acc (
    id SERIAL PRIMARY KEY NOT NULL,
    method VARCHAR(16) DEFAULT '' NOT NULL,
    from_tag VARCHAR(128) DEFAULT '' NOT NULL,
    to_tag VARCHAR(128) DEFAULT '' NOT NULL,
    callid VARCHAR(255) DEFAULT '' NOT NULL,
    sip_code VARCHAR(3) DEFAULT '' NOT NULL,
    sip_reason VARCHAR(128) DEFAULT '' NOT NULL,
    time TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    time_exact DOUBLE PRECISION DEFAULT 0 NOT NULL,
    caller VARCHAR(64) DEFAULT '' NOT NULL,
    callee VARCHAR(64) DEFAULT '' NOT NULL,
    caller_agent VARCHAR(64) DEFAULT '' NOT NULL,
    callee_agent VARCHAR(64) DEFAULT '' NOT NULL,
    src_ip VARCHAR(64) DEFAULT '' NOT NULL
);

CREATE INDEX acc_callid_idx ON acc (callid);
CREATE INDEX acc_caller_agent_idx ON acc (caller_agent, time_exact);
CREATE INDEX acc_callee_agent_idx ON acc (callee_agent, time_exact);

INSERT INTO version (table_name, table_version) values ('acc','5');

-- missed_calls: the calls the proxy refused itself, never relayed (route[REFUSE]: class of
-- service, unknown extension), with the code and reason it replied.
CREATE TABLE missed_calls (
    id SERIAL PRIMARY KEY NOT NULL,
    method VARCHAR(16) DEFAULT '' NOT NULL,
    from_tag VARCHAR(128) DEFAULT '' NOT NULL,
    to_tag VARCHAR(128) DEFAULT '' NOT NULL,
    callid VARCHAR(255) DEFAULT '' NOT NULL,
    sip_code VARCHAR(3) DEFAULT '' NOT NULL,
    sip_reason VARCHAR(128) DEFAULT '' NOT NULL,
    time TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    time_exact DOUBLE PRECISION DEFAULT 0 NOT NULL,
    caller VARCHAR(64) DEFAULT '' NOT NULL,
    callee VARCHAR(64) DEFAULT '' NOT NULL,
    caller_agent VARCHAR(64) DEFAULT '' NOT NULL,
    callee_agent VARCHAR(64) DEFAULT '' NOT NULL,
    src_ip VARCHAR(64) DEFAULT '' NOT NULL
);

CREATE INDEX missed_calls_callid_idx ON missed_calls (callid);
CREATE INDEX missed_calls_caller_agent_idx ON missed_calls (caller_agent, time_exact);
CREATE INDEX missed_calls_callee_agent_idx ON missed_calls (callee_agent, time_exact);

INSERT INTO version (table_name, table_version) values ('missed_calls','4');

-- acc_cdrs: one row per answered call when its dialog ends (start: the answer), with its
-- duration in seconds; callid joins it to `acc`.
CREATE TABLE acc_cdrs (
    id SERIAL PRIMARY KEY NOT NULL,
    start_time TIMESTAMP WITHOUT TIME ZONE DEFAULT '2000-01-01 00:00:00' NOT NULL,
    end_time TIMESTAMP WITHOUT TIME ZONE DEFAULT '2000-01-01 00:00:00' NOT NULL,
    duration REAL DEFAULT 0 NOT NULL,
    callid VARCHAR(255) DEFAULT '' NOT NULL,
    caller_agent VARCHAR(64) DEFAULT '' NOT NULL,
    callee_agent VARCHAR(64) DEFAULT '' NOT NULL
);

CREATE INDEX acc_cdrs_start_time_idx ON acc_cdrs (start_time);
CREATE INDEX acc_cdrs_callid_idx ON acc_cdrs (callid);

INSERT INTO version (table_name, table_version) values ('acc_cdrs','2');

-- Calls in progress (dialog, db_mode 2: written every few seconds by a timer), with their
-- variables (who called, who was called), so a restart keeps every call known.
CREATE TABLE dialog (
    id SERIAL PRIMARY KEY NOT NULL,
    hash_entry INTEGER NOT NULL,
    hash_id INTEGER NOT NULL,
    callid VARCHAR(255) NOT NULL,
    from_uri VARCHAR(255) NOT NULL,
    from_tag VARCHAR(128) NOT NULL,
    to_uri VARCHAR(255) NOT NULL,
    to_tag VARCHAR(128) NOT NULL,
    caller_cseq VARCHAR(20) NOT NULL,
    callee_cseq VARCHAR(20) NOT NULL,
    caller_route_set VARCHAR(512),
    callee_route_set VARCHAR(512),
    caller_contact VARCHAR(255) NOT NULL,
    callee_contact VARCHAR(255) NOT NULL,
    caller_sock VARCHAR(64) NOT NULL,
    callee_sock VARCHAR(64) NOT NULL,
    state INTEGER NOT NULL,
    start_time INTEGER NOT NULL,
    timeout INTEGER DEFAULT 0 NOT NULL,
    sflags INTEGER DEFAULT 0 NOT NULL,
    iflags INTEGER DEFAULT 0 NOT NULL,
    toroute_name VARCHAR(32),
    req_uri VARCHAR(255) NOT NULL,
    xdata VARCHAR(512)
);

CREATE INDEX dialog_hash_idx ON dialog (hash_entry, hash_id);

INSERT INTO version (table_name, table_version) values ('dialog','7');

CREATE TABLE dialog_vars (
    id SERIAL PRIMARY KEY NOT NULL,
    hash_entry INTEGER NOT NULL,
    hash_id INTEGER NOT NULL,
    dialog_key VARCHAR(128) NOT NULL,
    dialog_value VARCHAR(512) NOT NULL
);

CREATE INDEX dialog_vars_hash_idx ON dialog_vars (hash_entry, hash_id);

INSERT INTO version (table_name, table_version) values ('dialog_vars','1');
