#include "banger/sqlite.h"

#include "banger/errors.h"
#include "banger/log.h"

namespace banger {
namespace {
[[noreturn]] void sqliteFail(sqlite3* db, const std::string& what) {
  const int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
  const ErrorCode ec = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? ErrorCode::Busy
                       : (code == SQLITE_CONSTRAINT)                  ? ErrorCode::IntegrityError
                       : (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
                           ? ErrorCode::IntegrityError
                           : ErrorCode::Failed;
  fail(ec, what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}
}  // namespace

Statement::Statement(sqlite3* db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
    sqliteFail(db, "preparing SQL '" + sql + "'");
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) sqliteFail(db_, "binding");
  return *this;
}

Statement& Statement::bind(int index, const std::string& value) {
  if (sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK) {
    sqliteFail(db_, "binding");
  }
  return *this;
}

Statement& Statement::bindNull(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) sqliteFail(db_, "binding");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqliteFail(db_, "executing '" + std::string(sqlite3_sql(stmt_)) + "'");
}

void Statement::run() {
  while (step()) {
  }
}

int64_t Statement::columnInt(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::columnText(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<size_t>(sqlite3_column_bytes(stmt_, index)))
              : std::string();
}

bool Statement::columnIsNull(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Database::Database(const std::filesystem::path& file, const std::vector<Migration>& migrations)
    : file_(file) {
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  if (sqlite3_open_v2(file.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = "opening database " + file.string();
    sqlite3* failed = db_;
    db_ = nullptr;
    try {
      sqliteFail(failed, message);
    } catch (...) {
      sqlite3_close(failed);
      throw;
    }
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA foreign_keys=ON");
    exec("PRAGMA synchronous=NORMAL");
    migrate(migrations);
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    sqliteFail(db_, "on " + file_.string() + ": " + text + " in '" + sql.substr(0, 80) + "'");
  }
}

int Database::userVersion() {
  Statement s(db_, "PRAGMA user_version");
  s.step();
  return static_cast<int>(s.columnInt(0));
}

void Database::migrate(const std::vector<Migration>& migrations) {
  const int current = userVersion();
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (current > latest) {
    fail(ErrorCode::IntegrityError,
         file_.string() + " has schema version " + std::to_string(current) +
             ", newer than this banger knows (" + std::to_string(latest) +
             "); upgrade banger or move the file away");
  }
  int expected = 1;
  for (const auto& m : migrations) {
    if (m.version != expected++) {
      fail(ErrorCode::Failed, "migrations must be numbered 1, 2, 3, ... without gaps");
    }
    if (m.version <= current) continue;
    Transaction tx(*this);
    exec(m.sql);
    exec("PRAGMA user_version=" + std::to_string(m.version));
    tx.commit();
    log::info("migrated " + file_.string() + " to schema version " + std::to_string(m.version));
  }
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) {
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace banger
