// A small SQLite wrapper: WAL, foreign keys, busy timeout, a baseline schema plus
// numbered migrations tracked in PRAGMA user_version, and RAII transactions.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace banger {

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, const std::string& value);
  Statement& bindNull(int index);
  // Steps once; true while a row is available.
  bool step();
  void run();  // steps to completion
  int64_t columnInt(int index) const;
  std::string columnText(int index) const;
  bool columnIsNull(int index) const;
  void reset();

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

struct Migration {
  int version;      // user_version after this migration; 1, 2, 3, ...
  std::string sql;  // may hold several statements
};

class Database {
 public:
  // Opens (creating) the database and brings the schema up to the last migration.
  // Migration 1 is the baseline schema. Each migration runs in its own transaction, so
  // a failing one leaves the database at the previous version.
  Database(const std::filesystem::path& file, const std::vector<Migration>& migrations);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const std::string& sql);
  Statement prepare(const std::string& sql) { return Statement(db_, sql); }
  int userVersion();
  sqlite3* handle() const { return db_; }
  const std::filesystem::path& file() const { return file_; }

 private:
  void migrate(const std::vector<Migration>& migrations);
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
};

// Commits on commit(); rolls back if destroyed without it (an exception unwound).
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace banger
