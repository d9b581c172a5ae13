#include <gtest/gtest.h>

#include "banger/errors.h"
#include "banger/sqlite.h"
#include "harness.h"

using namespace banger;

namespace {
const std::vector<Migration> kV1 = {
    {1,
     "CREATE TABLE vm (name TEXT PRIMARY KEY, state TEXT NOT NULL);"
     "CREATE TABLE disk (vm TEXT NOT NULL REFERENCES vm(name) ON DELETE CASCADE, path TEXT);"}};

std::vector<Migration> v2() {
  auto m = kV1;
  m.push_back({2, "ALTER TABLE vm ADD COLUMN boot_id TEXT NOT NULL DEFAULT ''"});
  return m;
}

std::string pragma(Database& db, const std::string& name) {
  auto s = db.prepare("PRAGMA " + name);
  s.step();
  return s.columnText(0);
}
}  // namespace

TEST(Sqlite, BaselineSetsVersionWalAndForeignKeys) {
  test::TempDir dir;
  Database db(dir.path() / "sub/state.db", kV1);
  EXPECT_EQ(db.userVersion(), 1);
  EXPECT_EQ(pragma(db, "journal_mode"), "wal");
  EXPECT_EQ(pragma(db, "foreign_keys"), "1");
  EXPECT_NE(pragma(db, "busy_timeout"), "0");
}

TEST(Sqlite, MigrationsApplyInOrderAndKeepData) {
  test::TempDir dir;
  const auto file = dir.path() / "state.db";
  {
    Database db(file, kV1);
    db.prepare("INSERT INTO vm(name, state) VALUES (?, ?)")
        .bind(1, std::string("web"))
        .bind(2, std::string("stopped"))
        .run();
  }
  Database db(file, v2());
  EXPECT_EQ(db.userVersion(), 2);
  auto s = db.prepare("SELECT name, boot_id FROM vm");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.columnText(0), "web");
  EXPECT_EQ(s.columnText(1), "");
}

TEST(Sqlite, FailingMigrationLeavesThePreviousVersion) {
  test::TempDir dir;
  const auto file = dir.path() / "state.db";
  { Database db(file, kV1); }
  auto broken = kV1;
  broken.push_back({2, "ALTER TABLE vm ADD COLUMN x TEXT; THIS IS NOT SQL"});
  EXPECT_THROW(Database(file, broken), Error);
  Database db(file, kV1);
  EXPECT_EQ(db.userVersion(), 1);
  auto s = db.prepare("SELECT count(*) FROM pragma_table_info('vm') WHERE name = 'x'");
  s.step();
  EXPECT_EQ(s.columnInt(0), 0);
}

TEST(Sqlite, NewerDatabaseIsRefusedWithAClearMessage) {
  test::TempDir dir;
  const auto file = dir.path() / "state.db";
  { Database db(file, v2()); }
  try {
    Database db(file, kV1);
    FAIL() << "opened a database newer than the code";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::IntegrityError);
    EXPECT_NE(std::string(e.what()).find("schema version 2"), std::string::npos);
  }
}

TEST(Sqlite, TransactionRollsBackWhenNotCommitted) {
  test::TempDir dir;
  Database db(dir.path() / "state.db", kV1);
  try {
    Transaction tx(db);
    db.exec("INSERT INTO vm(name, state) VALUES ('a', 'created')");
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  {
    Transaction tx(db);
    db.exec("INSERT INTO vm(name, state) VALUES ('b', 'created')");
    tx.commit();
  }
  auto s = db.prepare("SELECT group_concat(name) FROM vm");
  s.step();
  EXPECT_EQ(s.columnText(0), "b");
}

TEST(Sqlite, ForeignKeysAreEnforced) {
  test::TempDir dir;
  Database db(dir.path() / "state.db", kV1);
  try {
    db.exec("INSERT INTO disk(vm, path) VALUES ('ghost', '/x')");
    FAIL() << "a disk for a missing vm was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::IntegrityError);
  }
}
