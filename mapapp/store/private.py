"""The private data: accounts, sign-in sessions, API tokens, sign-in attempts, the
edit history and the public's contributions (with the answers waiting to be sent),
a contract of its own apart from the layers (:mod:`.base`).

They are kept apart from the layers: in a second SQLite file beside the GeoPackage
(so a planner who shares the GeoPackage shares no password hash), in a second schema
on PostGIS (so database users can be given the layers only). Each backend's store
hands its private part as ``store.private``; the data contract never touches an
account, and mapapp/accounts.py (passwords, sessions, tokens, rate limits) uses
nothing else of the store.

The history is written by the data writes themselves: a change and its history
entry never diverge, even after a crash. On PostGIS both are in one transaction; the
GeoPackage backend writes the entry in the same transaction as the change (in a
small outbox table) and moves it to the private file just after, and again at the
next start if the process died in between (see ``geopackage.py``). This contract
reads it.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import AlreadyExists, NotFound, RateLimited
from ..limits import HISTORY_ID_MAX

if TYPE_CHECKING:  # the backend that holds the connections (no import at run time)
    from .sql import SqlStore

SEEN_EVERY_S = 60  # a session's or token's last use is written at most this often
CONTRIBUTION_KEYS = (
    "id", "created", "month", "layer", "feature_id", "kind", "body", "email",
    "sender", "status", "reason", "decided", "decided_by", "result",
)  # fmt: skip
ATTEMPT_BUCKET_S = 10  # sign-in attempts are counted per pair in buckets this long
ATTEMPTS_KEPT_S = 86400  # and their counts kept this long


class PrivateStore(ABC):
    """Accounts and history of one store; see the module docstring."""

    # --- history: every change of a feature, written by the data writes -----------

    @abstractmethod
    def history(self, layer: str, fid: str) -> list[dict]:
        """The changes of one feature, newest first: ``{"id", "version", "action",
        "author", "at", "before", "after", "note"}`` (states as GeoJSON-like dicts;
        ``note`` says which import made a change, None for edits)."""

    @abstractmethod
    def import_entries(self, layer: str, history_id: int) -> list[dict]:
        """Every change one import made to a layer, given one of its history
        entries: ``{"feature_id", "action", "before", "after", "note", "author"}``,
        oldest first (the entries of one import share its note, author and time).
        NotFound when the entry is not this layer's or not an import's."""

    @abstractmethod
    def deleted(self, layer: str) -> list[dict]:
        """Features of a layer whose last change is a deletion (to recover them)."""

    @abstractmethod
    def state_at(self, layer: str, fid: str, history_id: int) -> dict:
        """The state one history entry of a feature gives back (after it; before a
        deletion): what :meth:`Store.restore` writes. NotFound for an entry that is
        not this feature's (any integer, however large, is only ever NotFound)."""

    # --- accounts: users, API tokens, sessions, sign-in attempts ---------------------
    # Users carry an internal number besides their name: tokens and sessions belong
    # to that number, so an account removed and created again under the same name
    # inherits nothing. Times are seconds since the epoch, given by the caller.

    @abstractmethod
    def add_user(self, name: str, role: str, password_hash: str) -> None:
        """Create a user (AlreadyExists if the name is taken)."""

    @abstractmethod
    def get_user(self, name: str) -> dict | None:
        """``{"uid", "name", "role", "password_hash", "created"}`` or None."""

    @abstractmethod
    def list_users(self) -> list[dict]:
        """Every user as ``{"name", "role", "created"}``, by name."""

    @abstractmethod
    def remove_user(self, name: str) -> None:
        """Delete a user with their tokens, sessions and sign-in attempts
        (NotFound if unknown)."""

    @abstractmethod
    def set_password(self, name: str, password_hash: str) -> None:
        """Change a user's password hash and end all their sessions, in one
        transaction (NotFound if unknown)."""

    @abstractmethod
    def add_token(
        self, name: str, token_hash: str, token_id: str, now: float, expires: float
    ) -> None:
        """Store the hash of a new API token of a user, its public ``token_id`` (to
        list and revoke it) and when it expires (NotFound if no such user)."""

    @abstractmethod
    def tokens(self, name: str) -> list[dict]:
        """A user's tokens, oldest first: ``{"id", "created", "expires",
        "last_used"}`` (never the hash; NotFound if no such user)."""

    @abstractmethod
    def revoke_token(self, name: str, token_id: str) -> None:
        """Delete one token of a user (NotFound if the user has no such token)."""

    @abstractmethod
    def revoke_tokens(self, name: str) -> int:
        """Delete every token of a user; return how many there were."""

    @abstractmethod
    def user_for_token(self, token_hash: str, now: float) -> dict | None:
        """``{"name", "role"}`` of the token's user, or None (unknown or expired
        token). Notes when the token was used (at most once a minute)."""

    @abstractmethod
    def add_session(
        self, name: str, session_hash: str, now: float, expires: float
    ) -> None:
        """Open a sign-in session (known by the hash of its secret) that ends at
        ``expires`` at the latest (NotFound if no such user)."""

    @abstractmethod
    def session_user(self, session_hash: str, now: float, idle: float) -> dict | None:
        """``{"name", "role"}`` of a live session, or None: unknown, ended, past its
        end, or unused for more than ``idle`` seconds (then it is ended)."""

    @abstractmethod
    def end_session(self, session_hash: str) -> None:
        """End one session (signing out); nothing happens if it is already gone."""

    @abstractmethod
    def end_sessions(self, name: str) -> int:
        """End every session of a user; return how many there were."""

    @abstractmethod
    def record_attempt(
        self,
        account: str,
        address: str,
        at: float,
        since: float,
        cap: int | None = None,
    ) -> tuple[int, int]:
        """Count one sign-in attempt on ``account`` from ``address`` and return, in
        the same transaction, the attempts since ``since`` of that pair and of that
        address (this one included): concurrent attempts are all counted.

        Attempts are counted in buckets of :data:`ATTEMPT_BUCKET_S` seconds per
        (account, address), not stored one by one: ``since`` is rounded up to a
        bucket's start (a window of 15 minutes counts the last 14 min 50 s to
        15 min). Once the
        address has more than ``cap`` attempts in the window, a further attempt
        is refused anyway and changes nothing stored (a flood adds no rows)."""

    @abstractmethod
    def clear_attempts(self, account: str, address: str) -> None:
        """Forget the attempts of one (account, address) pair (after a success)."""

    # --- contributions of the public (mapapp/contributions.py) ---------------------
    # Statuses: "new" (in the inbox), "held" (likely spam: too many links),
    # "duplicate" (same feature and kind within a day), "spam", "accepted",
    # "rejected". ``sender`` is a keyed hash of the sender's address, never the
    # address itself.

    @abstractmethod
    def add_contribution(
        self, row: dict, since: float, limits: tuple[int, int], duplicate_since: float
    ) -> dict:
        """Store one contribution (``row``: the columns but ``id``) unless its
        sender sent ``limits[0]`` since ``since``, or everyone ``limits[1]``
        (RateLimited), in one transaction; a sender once marked as spam has its
        row stored as spam, a report of the same feature and kind since
        ``duplicate_since`` as a duplicate (unless held). Returns ``{"id",
        "status"}``."""

    @abstractmethod
    def contributions(
        self,
        statuses: tuple[str, ...],
        layer: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[dict]:
        """Contributions of some statuses (and a layer), oldest first, as dicts of
        :data:`CONTRIBUTION_KEYS` (``body`` parsed)."""

    @abstractmethod
    def contribution(self, cid: int) -> dict:
        """One contribution (NotFound)."""

    @abstractmethod
    def contribution_counts(self) -> dict[str, int]:
        """How many contributions there are of each status."""

    @abstractmethod
    def decide_contribution(
        self,
        cid: int,
        status: str,
        by: str,
        at: float,
        reason: str | None = None,
        result: str | None = None,
        lang: str = "fr",
    ) -> dict:
        """Record a decision; the e-mail leaves the contribution in the same
        transaction (to the answers to send, unless spam). Returns the row as it
        was before (with its e-mail), NotFound if unknown."""

    @abstractmethod
    def replies(self, take: bool = False) -> list[dict]:
        """The answers waiting to be sent: ``{"id", "contribution", "email",
        "lang", "status", "reason", "decided"}``; ``take`` deletes them once
        read (an export)."""

    @abstractmethod
    def purge_contributions(self, before: float) -> int:
        """Forget every e-mail and sender given before ``before`` (those of
        spam excepted: a spammer's next ones still go to spam) and the answers
        decided before then; return how many rows changed."""

    @abstractmethod
    def contribution_months(self) -> list[dict]:
        """Per month: ``{"month", "received", "accepted", "rejected"}`` (spam is
        not counted as received), oldest first."""


class SqlPrivateStore(PrivateStore):
    """The private contract over an SQL backend's private tables, written once for
    both: the backend gives its dialect, its private connection and transactions."""

    def __init__(self, db: SqlStore):
        self.db = db

    @property
    def P(self) -> str:  # noqa: N802 - the backend's placeholder, as SqlStore.P
        return self.db.P

    @property
    def NOW(self) -> str:  # noqa: N802 - the backend's SQL for the current time
        return self.db.NOW

    @property
    def pconn(self):
        """The connection to the private tables."""
        return self.db.pconn

    def _t(self, name: str) -> str:
        return self.db._t(name)

    def _pwrite(self):
        return self.db._pwrite()

    def _lock(self, conn, key: str) -> None:
        self.db._lock(conn, key)

    def _journal(self):
        """The connection that reads the complete history (the GeoPackage moves
        the entries waiting in its outbox first)."""
        return self.db._history_conn()

    def history(self, layer: str, fid: str) -> list[dict]:
        spec = self.db._spec(layer)
        fid = self.db._fid(spec, fid)
        rows = (
            self._journal()
            .execute(
                "SELECT hid, version, action, author, at, before, after, note FROM "
                f"{self._t('history')} WHERE layer = {self.P} AND feature_id = "
                f"{self.P} ORDER BY hid DESC",
                (layer, fid),
            )
            .fetchall()
        )
        keys = ("id", "version", "action", "author", "at", "before", "after", "note")
        return [
            {
                **dict(zip(keys, r, strict=True)),
                "before": self.db._load_state(r[5]),
                "after": self.db._load_state(r[6]),
            }
            for r in rows
        ]

    def import_entries(self, layer: str, history_id: int) -> list[dict]:
        p, h = self.P, self._t("history")
        row = None
        if isinstance(history_id, int) and 0 < history_id <= HISTORY_ID_MAX:
            row = (
                self._journal()
                .execute(
                    f"SELECT note, author, at FROM {h} WHERE hid = {p} AND layer = {p}"
                    f" AND note IS NOT NULL AND note NOT LIKE {p}",
                    (history_id, layer, "undo of %"),
                )
                .fetchone()
            )
        if row is None:
            raise NotFound(f"no import entry {history_id} in {layer!r}")
        author_is = f"author = {p}" if row[1] is not None else "author IS NULL"
        rows = (
            self._journal()
            .execute(
                f"SELECT feature_id, action, before, after, note, author FROM {h} "
                f"WHERE layer = {p} AND note = {p} AND at = {p} AND {author_is} "
                "ORDER BY hid",
                (layer, row[0], row[2], *([row[1]] if row[1] is not None else [])),
            )
            .fetchall()
        )
        keys = ("feature_id", "action", "before", "after", "note", "author")
        return [
            {
                **dict(zip(keys, r, strict=True)),
                "before": self.db._load_state(r[2]),
                "after": self.db._load_state(r[3]),
            }
            for r in rows
        ]

    def deleted(self, layer: str) -> list[dict]:
        spec = self.db._spec(layer)
        h = self._t("history")
        rows = (
            self._journal()
            .execute(
                f"SELECT e.hid, e.feature_id, e.author, e.at, e.before FROM {h} e "
                f"WHERE e.layer = {self.P} AND e.action = 'delete' AND e.hid = (SELECT "
                f"max(hid) FROM {h} WHERE layer = e.layer AND feature_id = "
                "e.feature_id) ORDER BY e.hid DESC",
                (spec.name,),
            )
            .fetchall()
        )
        return [
            {
                "history_id": r[0],
                "id": r[1],
                "author": r[2],
                "at": r[3],
                "state": self.db._load_state(r[4]),
            }
            for r in rows
        ]

    def state_at(self, layer: str, fid: str, history_id: int) -> dict:
        p = self.P
        row = None
        if isinstance(history_id, int) and 0 < history_id <= HISTORY_ID_MAX:
            row = (
                self._journal()
                .execute(
                    f"SELECT action, before, after FROM {self._t('history')} WHERE "
                    f"hid = {p} AND layer = {p} AND feature_id = {p}",
                    (history_id, layer, fid),
                )
                .fetchone()
            )
        if row is None:
            raise NotFound(f"no history entry {history_id} for {fid!r} in {layer!r}")
        return self.db._load_state(row[2] if row[0] != "delete" else row[1])

    # --- accounts -----------------------------------------------------------------

    def _uid(self, conn, name: str) -> int:
        row = conn.execute(
            f"SELECT uid FROM {self._t('users')} WHERE name = {self.P}", (name,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no user {name!r}")
        return row[0]

    def add_user(self, name: str, role: str, password_hash: str) -> None:
        p = self.P
        with self._pwrite() as conn:
            if conn.execute(
                f"SELECT 1 FROM {self._t('users')} WHERE name = {p}", (name,)
            ).fetchone():
                raise AlreadyExists(f"user {name!r} already exists")
            conn.execute(
                f"INSERT INTO {self._t('users')} (name, role, password_hash, created) "
                f"VALUES ({p}, {p}, {p}, {self.NOW})",
                (name, role, password_hash),
            )
            # a name used before starts afresh: no sign-in failures carried over
            conn.execute(
                f"DELETE FROM {self._t('attempt_counts')} WHERE account = {p}", (name,)
            )

    def get_user(self, name: str) -> dict | None:
        row = self.pconn.execute(
            "SELECT uid, name, role, password_hash, created FROM "
            f"{self._t('users')} WHERE name = {self.P}",
            (name,),
        ).fetchone()
        keys = ("uid", "name", "role", "password_hash", "created")
        return None if row is None else dict(zip(keys, row, strict=True))

    def list_users(self) -> list[dict]:
        rows = self.pconn.execute(
            f"SELECT name, role, created FROM {self._t('users')} ORDER BY name"
        ).fetchall()
        return [dict(zip(("name", "role", "created"), r, strict=True)) for r in rows]

    def remove_user(self, name: str) -> None:
        p = self.P
        with self._pwrite() as conn:
            uid = self._uid(conn, name)
            for table in ("tokens", "sessions"):
                conn.execute(f"DELETE FROM {self._t(table)} WHERE uid = {p}", (uid,))
            conn.execute(
                f"DELETE FROM {self._t('attempt_counts')} WHERE account = {p}", (name,)
            )
            conn.execute(f"DELETE FROM {self._t('users')} WHERE uid = {p}", (uid,))

    def set_password(self, name: str, password_hash: str) -> None:
        p = self.P
        with self._pwrite() as conn:
            uid = self._uid(conn, name)
            conn.execute(
                f"UPDATE {self._t('users')} SET password_hash = {p} WHERE uid = {p}",
                (password_hash, uid),
            )
            conn.execute(f"DELETE FROM {self._t('sessions')} WHERE uid = {p}", (uid,))

    # --- API tokens -------------------------------------------------------------------

    @contextmanager
    def _add_owned(self, name: str, table: str, row: dict):
        """Insert a row of ``table`` (tokens, sessions) belonging to the user
        ``name`` (NotFound if no such user); the transaction is the caller's until
        the block ends."""
        with self._pwrite() as conn:
            row = {**row, "uid": self._uid(conn, name)}
            conn.execute(
                f"INSERT INTO {self._t(table)} ({', '.join(row)}) VALUES "
                f"({', '.join([self.P] * len(row))})",
                tuple(row.values()),
            )
            yield conn

    def _seen(self, table: str, column: str, key: str, value: str, now: float):
        """Note when a token or a session was last used."""
        with self._pwrite() as conn:
            conn.execute(
                f"UPDATE {self._t(table)} SET {column} = {self.P} WHERE {key} = "
                f"{self.P}",
                (now, value),
            )

    def add_token(
        self, name: str, token_hash: str, token_id: str, now: float, expires: float
    ) -> None:
        row = {"token_hash": token_hash, "token_id": token_id, "created": now}
        with self._add_owned(name, "tokens", {**row, "expires": expires}):
            pass

    def tokens(self, name: str) -> list[dict]:
        uid = self._uid(self.pconn, name)
        rows = self.pconn.execute(
            f"SELECT token_id, created, expires, last_used FROM {self._t('tokens')} "
            f"WHERE uid = {self.P} ORDER BY created",
            (uid,),
        ).fetchall()
        keys = ("id", "created", "expires", "last_used")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def revoke_token(self, name: str, token_id: str) -> None:
        p = self.P
        with self._pwrite() as conn:
            uid = self._uid(conn, name)
            if not conn.execute(
                f"DELETE FROM {self._t('tokens')} WHERE uid = {p} AND token_id = {p}",
                (uid, token_id),
            ).rowcount:
                raise NotFound(f"user {name!r} has no token {token_id!r}")

    def revoke_tokens(self, name: str) -> int:
        with self._pwrite() as conn:
            uid = self._uid(conn, name)
            return conn.execute(
                f"DELETE FROM {self._t('tokens')} WHERE uid = {self.P}", (uid,)
            ).rowcount

    def user_for_token(self, token_hash: str, now: float) -> dict | None:
        row = self.pconn.execute(
            f"SELECT u.name, u.role, t.expires, t.last_used FROM {self._t('tokens')} "
            f"t JOIN {self._t('users')} u ON u.uid = t.uid WHERE t.token_hash = "
            f"{self.P}",
            (token_hash,),
        ).fetchone()
        if row is None or row[2] <= now:
            return None
        if row[3] is None or now - row[3] > SEEN_EVERY_S:
            self._seen("tokens", "last_used", "token_hash", token_hash, now)
        return {"name": row[0], "role": row[1]}

    # --- sessions ------------------------------------------------------------------

    def add_session(
        self, name: str, session_hash: str, now: float, expires: float
    ) -> None:
        row = {"session_hash": session_hash, "created": now, "seen": now}
        with self._add_owned(name, "sessions", {**row, "expires": expires}) as conn:
            conn.execute(  # the sessions past their end go meanwhile
                f"DELETE FROM {self._t('sessions')} WHERE expires < {self.P}", (now,)
            )

    def session_user(self, session_hash: str, now: float, idle: float) -> dict | None:
        row = self.pconn.execute(
            f"SELECT u.name, u.role, s.seen, s.expires FROM {self._t('sessions')} s "
            f"JOIN {self._t('users')} u ON u.uid = s.uid WHERE s.session_hash = "
            f"{self.P}",
            (session_hash,),
        ).fetchone()
        if row is None:
            return None
        if row[3] <= now or now - row[2] > idle:
            self.end_session(session_hash)
            return None
        if now - row[2] > min(SEEN_EVERY_S, idle / 10):
            self._seen("sessions", "seen", "session_hash", session_hash, now)
        return {"name": row[0], "role": row[1]}

    def end_session(self, session_hash: str) -> None:
        with self._pwrite() as conn:
            conn.execute(
                f"DELETE FROM {self._t('sessions')} WHERE session_hash = {self.P}",
                (session_hash,),
            )

    def end_sessions(self, name: str) -> int:
        with self._pwrite() as conn:
            uid = self._uid(conn, name)
            return conn.execute(
                f"DELETE FROM {self._t('sessions')} WHERE uid = {self.P}", (uid,)
            ).rowcount

    # --- sign-in attempts -----------------------------------------------------------

    def record_attempt(
        self,
        account: str,
        address: str,
        at: float,
        since: float,
        cap: int | None = None,
    ) -> tuple[int, int]:
        p, t = self.P, self._t("attempt_counts")
        bucket = int(at // ATTEMPT_BUCKET_S)
        first = -int(-since // ATTEMPT_BUCKET_S)  # the first bucket wholly since
        with self._pwrite() as conn:
            self._lock(conn, f"attempts.{address}")
            # old buckets go by the bucket index: no scan, whatever the flood was
            conn.execute(
                f"DELETE FROM {t} WHERE bucket < {p}",
                (int((at - ATTEMPTS_KEPT_S) // ATTEMPT_BUCKET_S),),
            )
            from_address = conn.execute(
                f"SELECT coalesce(sum(n), 0) FROM {t} WHERE address = {p} "
                f"AND bucket >= {p}",
                (address, first),
            ).fetchone()[0]
            if cap is None or from_address <= cap:
                conn.execute(
                    f"INSERT INTO {t} AS a (account, address, bucket, n) VALUES "
                    f"({p}, {p}, {p}, 1) ON CONFLICT (account, address, bucket) "
                    "DO UPDATE SET n = a.n + 1",
                    (account, address, bucket),
                )
            pair = conn.execute(
                f"SELECT coalesce(sum(n), 0) FROM {t} WHERE account = {p} "
                f"AND address = {p} AND bucket >= {p}",
                (account, address, first),
            ).fetchone()[0]
        return int(pair), int(from_address) + 1

    def clear_attempts(self, account: str, address: str) -> None:
        with self._pwrite() as conn:
            conn.execute(
                f"DELETE FROM {self._t('attempt_counts')} WHERE account = {self.P} "
                f"AND address = {self.P}",
                (account, address),
            )

    # --- contributions --------------------------------------------------------------

    def add_contribution(
        self, row: dict, since: float, limits: tuple[int, int], duplicate_since: float
    ) -> dict:
        p, t = self.P, self._t("contributions")
        with self._pwrite() as conn:
            self._lock(conn, "contributions")
            mine = conn.execute(
                f"SELECT count(*) FROM {t} WHERE sender = {p} AND created >= {p}",
                (row["sender"], since),
            ).fetchone()[0]
            everyone = conn.execute(
                f"SELECT count(*) FROM {t} WHERE created >= {p}", (since,)
            ).fetchone()[0]
            if mine >= limits[0] or everyone >= limits[1]:
                raise RateLimited("too many contributions for now")
            status = row["status"]
            if conn.execute(
                f"SELECT 1 FROM {t} WHERE sender = {p} AND status = 'spam' LIMIT 1",
                (row["sender"],),
            ).fetchone():
                status = "spam"
            elif (
                status == "new"
                and row["feature_id"]
                and conn.execute(
                    f"SELECT 1 FROM {t} WHERE layer = {p} AND feature_id = {p} AND "
                    f"kind = {p} AND created >= {p} AND status <> 'spam' LIMIT 1",
                    (row["layer"], row["feature_id"], row["kind"], duplicate_since),
                ).fetchone()
            ):
                status = "duplicate"
            values = {**row, "status": status, "body": json.dumps(row["body"])}
            cid = conn.execute(
                f"INSERT INTO {t} ({', '.join(values)}) VALUES "
                f"({', '.join([p] * len(values))}) RETURNING cid",
                tuple(values.values()),
            ).fetchone()[0]
        return {"id": cid, "status": status}

    def _contribution_rows(self, where: str, params: tuple, tail: str = "") -> list:
        rows = self.pconn.execute(
            f"SELECT cid, {', '.join(CONTRIBUTION_KEYS[1:])} FROM "
            f"{self._t('contributions')} WHERE {where} ORDER BY cid{tail}",
            params,
        ).fetchall()
        out = []
        for r in rows:
            item = dict(zip(CONTRIBUTION_KEYS, r, strict=True))
            item["body"] = json.loads(item["body"])
            out.append(item)
        return out

    def contributions(
        self,
        statuses: tuple[str, ...],
        layer: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[dict]:
        p = self.P
        where = f"status IN ({', '.join([p] * len(statuses))})"
        params = tuple(statuses)
        if layer:
            where += f" AND layer = {p}"
            params += (layer,)
        return self._contribution_rows(
            where, (*params, int(limit), int(offset)), f" LIMIT {p} OFFSET {p}"
        )

    def contribution(self, cid: int) -> dict:
        rows = []
        if isinstance(cid, int) and 0 < cid <= HISTORY_ID_MAX:
            rows = self._contribution_rows(f"cid = {self.P}", (cid,))
        if not rows:
            raise NotFound(f"no contribution {cid}")
        return rows[0]

    def contribution_counts(self) -> dict[str, int]:
        rows = self.pconn.execute(
            f"SELECT status, count(*) FROM {self._t('contributions')} GROUP BY status"
        ).fetchall()
        return {status: n for status, n in rows}

    def decide_contribution(
        self,
        cid: int,
        status: str,
        by: str,
        at: float,
        reason: str | None = None,
        result: str | None = None,
        lang: str = "fr",
    ) -> dict:
        p = self.P
        before = self.contribution(cid)
        with self._pwrite() as conn:
            conn.execute(
                f"UPDATE {self._t('contributions')} SET status = {p}, reason = {p}, "
                f"decided = {p}, decided_by = {p}, result = {p}, email = NULL "
                f"WHERE cid = {p}",
                (status, reason, at, by, result, cid),
            )
            if before["email"] and status != "spam":
                conn.execute(
                    f"INSERT INTO {self._t('replies')} (cid, email, lang, status, "
                    f"reason, decided) VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
                    (cid, before["email"], lang, status, reason, at),
                )
        return before

    def replies(self, take: bool = False) -> list[dict]:
        t = self._t("replies")
        with self._pwrite() as conn:
            rows = conn.execute(
                f"SELECT rid, cid, email, lang, status, reason, decided FROM {t} "
                "ORDER BY rid"
            ).fetchall()
            if take and rows:
                conn.execute(f"DELETE FROM {t} WHERE rid <= {self.P}", (rows[-1][0],))
        keys = ("id", "contribution", "email", "lang", "status", "reason", "decided")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def purge_contributions(self, before: float) -> int:
        p, t = self.P, self._t("contributions")
        with self._pwrite() as conn:
            n = conn.execute(
                f"UPDATE {t} SET email = NULL, sender = CASE WHEN status = 'spam' "
                f"THEN sender END WHERE created < {p} AND (email IS NOT NULL OR "
                "(sender IS NOT NULL AND status <> 'spam'))",
                (before,),
            ).rowcount
            n += conn.execute(
                f"DELETE FROM {self._t('replies')} WHERE decided < {p}", (before,)
            ).rowcount
        return n

    def contribution_months(self) -> list[dict]:
        rows = self.pconn.execute(
            "SELECT month, sum(CASE WHEN status <> 'spam' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN status = 'accepted' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) FROM "
            f"{self._t('contributions')} GROUP BY month ORDER BY month"
        ).fetchall()
        keys = ("month", "received", "accepted", "rejected")
        return [dict(zip(keys, map(_int, r), strict=True)) for r in rows]


def _int(value):
    """Sums come back as Decimal on PostgreSQL."""
    return value if isinstance(value, str) else int(value or 0)
