import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.postgresql.PGStatement;

/**
 * pgjdbc against one server. Usage: java -Duser.timezone=UTC -cp <dir>:postgresql.jar JdbcClient host port database user
 *
 * <p>Prints one JSON line per step, like the Python fixtures: {"step", "ok", "value"} or {"step", "ok": false,
 * "error", "sqlstate"}. pgjdbc switches a PreparedStatement to a named server-side statement with binary results
 * on its 5th execution (prepareThreshold=5), and reads a result set with a fetch size through a portal with a row
 * limit when autocommit is off.
 */
public final class JdbcClient {
  private static String url;
  private static Properties props;

  interface Step {
    Object run() throws Exception;
  }

  public static void main(String[] args) {
    url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/" + args[2];
    props = new Properties();
    props.setProperty("user", args[3]);
    props.setProperty("sslmode", "disable");
    props.setProperty("connectTimeout", "10");
    props.setProperty("socketTimeout", "120");
    props.setProperty("ApplicationName", "mallard-e2e-pgjdbc");

    step("metadata", JdbcClient::metadata);
    step("prepared ten times", JdbcClient::preparedTenTimes);
    step("fetch size", JdbcClient::fetchSize);
    step("batch and transactions", JdbcClient::batchAndTransactions);
    step("errors", JdbcClient::errors);
  }

  private static Connection connect() throws SQLException {
    return DriverManager.getConnection(url, props);
  }

  private static Object metadata() throws SQLException {
    try (Connection conn = connect()) {
      DatabaseMetaData md = conn.getMetaData();
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("productName", md.getDatabaseProductName());
      out.put("productVersion", md.getDatabaseProductVersion());
      out.put("majorVersion", md.getDatabaseMajorVersion());
      try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 AS one")) {
        rs.next();
        out.put("one", rs.getInt(1));
      }
      return out;
    }
  }

  // Parameters of every type the driver binds, and constants of the types it can only read.
  private static final String EVERY_TYPE_SQL =
      "SELECT CAST(? AS int2) AS p_int2, CAST(? AS int4) AS p_int4, CAST(? AS int8) AS p_int8,"
          + " CAST(? AS float4) AS p_float4, CAST(? AS float8) AS p_float8, CAST(? AS numeric(12,3)) AS p_numeric,"
          + " CAST(? AS text) AS p_text, CAST(? AS bytea) AS p_bytea, CAST(? AS bool) AS p_bool,"
          + " CAST(? AS date) AS p_date, CAST(? AS timestamp) AS p_ts, CAST(? AS timestamptz) AS p_tstz,"
          + " CAST(? AS uuid) AS p_uuid, CAST(? AS int4) AS p_null,"
          + " CAST(-9223372036854775808 AS int8) AS c_int8_min, CAST('NaN' AS float8) AS c_nan,"
          + " CAST('-Infinity' AS float4) AS c_float4_neginf, CAST(12345678901234567890.123456 AS numeric(38,6)) AS c_numeric,"
          + " CAST('abc' AS varchar(10)) AS c_varchar, CAST('ab' AS char(2)) AS c_bpchar,"
          + " TIME '23:59:59.999999' AS c_time, TIMESTAMP '2024-01-02 03:04:05.123456' AS c_ts,"
          + " TIMESTAMPTZ '2024-07-01 12:00:00.5+00' AS c_tstz, INTERVAL '1 year 2 months 3 days 04:05:06.789' AS c_interval,"
          + " CAST('{\"a\": [1, 2.5, null]}' AS json) AS c_json, CAST(ARRAY[1, NULL, 3] AS int4[]) AS c_int4_array,"
          + " CAST(ARRAY['a', 'b c', 'q\"uote', NULL, ''] AS text[]) AS c_text_array,"
          + " CAST(ARRAY[1.5, -2.25] AS float8[]) AS c_float8_array";

  private static Object preparedTenTimes() throws SQLException {
    try (Connection conn = connect(); PreparedStatement ps = conn.prepareStatement(EVERY_TYPE_SQL)) {
      ps.setShort(1, (short) -32768);
      ps.setInt(2, 2147483647);
      ps.setLong(3, 9223372036854775807L);
      ps.setFloat(4, 0.1f);
      ps.setDouble(5, 1e100);
      ps.setBigDecimal(6, new BigDecimal("-123.450"));
      ps.setString(7, "héllo 世界 🦆 'q' \\");
      ps.setBytes(8, new byte[] {0, 1, (byte) 0xff});
      ps.setBoolean(9, true);
      ps.setObject(10, LocalDate.of(2024, 2, 29));
      ps.setObject(11, LocalDateTime.of(2024, 1, 2, 3, 4, 5, 123456000));
      ps.setObject(12, OffsetDateTime.of(2024, 7, 1, 12, 0, 0, 1000, ZoneOffset.ofHoursMinutes(5, 30)));
      ps.setObject(13, UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
      ps.setNull(14, Types.INTEGER);
      List<Object> executions = new ArrayList<>();
      List<Object> serverPrepared = new ArrayList<>();
      List<Object> columns = null;
      for (int i = 0; i < 10; i++) {
        try (ResultSet rs = ps.executeQuery()) {
          if (columns == null) columns = columns(rs.getMetaData());
          rs.next();
          executions.add(renderRow(rs));
        }
        serverPrepared.add(ps.unwrap(PGStatement.class).isUseServerPrepare());
      }
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("columns", columns);
      out.put("executions", executions);
      out.put("serverPrepared", serverPrepared);
      return out;
    }
  }

  private static List<Object> columns(ResultSetMetaData md) throws SQLException {
    List<Object> out = new ArrayList<>();
    for (int c = 1; c <= md.getColumnCount(); c++) {
      out.add(
          List.of(md.getColumnLabel(c), md.getColumnTypeName(c), md.getPrecision(c), md.getScale(c)));
    }
    return out;
  }

  /** Each column through the getter its type calls for, rendered so that any lost digit shows. */
  private static Map<String, Object> renderRow(ResultSet rs) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    Map<String, Object> out = new LinkedHashMap<>();
    for (int c = 1; c <= md.getColumnCount(); c++) {
      Object value;
      switch (md.getColumnTypeName(c)) {
        case "int2" -> value = Short.toString(rs.getShort(c));
        case "int4" -> value = Integer.toString(rs.getInt(c));
        case "int8" -> value = Long.toString(rs.getLong(c));
        case "float4" -> value = Float.toString(rs.getFloat(c));
        case "float8" -> value = Double.toString(rs.getDouble(c));
        case "numeric" -> value = String.valueOf(rs.getBigDecimal(c));
        case "bytea" -> value = hex(rs.getBytes(c));
        case "bool" -> value = Boolean.toString(rs.getBoolean(c));
        case "date" -> value = String.valueOf(rs.getObject(c, LocalDate.class));
        case "time" -> value = String.valueOf(rs.getObject(c, LocalTime.class));
        case "timestamp" -> value = String.valueOf(rs.getObject(c, LocalDateTime.class));
        case "timestamptz" -> value = String.valueOf(rs.getObject(c, OffsetDateTime.class));
        case "uuid" -> value = String.valueOf(rs.getObject(c, UUID.class));
        case "_int4", "_text", "_float8" -> {
          Array array = rs.getArray(c);
          value = array == null ? null : Arrays.toString((Object[]) array.getArray());
        }
        default -> value = rs.getString(c);
      }
      out.put(md.getColumnLabel(c), rs.wasNull() ? null : value);
    }
    return out;
  }

  private static Object fetchSize() throws SQLException {
    try (Connection conn = connect()) {
      conn.setAutoCommit(false);
      Map<String, Object> out = new LinkedHashMap<>();
      try (PreparedStatement ps =
          conn.prepareStatement("SELECT CAST(i AS int4) AS i, CAST(i AS text) AS s FROM generate_series(1, 10000) AS t(i) ORDER BY i")) {
        ps.setFetchSize(100);
        long count = 0;
        long sum = 0;
        boolean ordered = true;
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            count++;
            int i = rs.getInt(1);
            sum += i;
            if (i != count || !rs.getString(2).equals(Integer.toString(i))) ordered = false;
            if (count == 150) {
              // A second statement while the first portal is suspended half way.
              try (Statement st = conn.createStatement(); ResultSet other = st.executeQuery("SELECT 42 AS answer")) {
                other.next();
                out.put("interleaved", other.getInt(1));
              }
            }
          }
        }
        out.put("count", count);
        out.put("sum", sum);
        out.put("ordered", ordered);
      }
      conn.commit();
      return out;
    }
  }

  private static Object batchAndTransactions() throws SQLException {
    try (Connection setup = connect(); Connection conn = connect()) {
      try (Statement st = setup.createStatement()) {
        st.execute("CREATE TABLE j_tx (id int4 PRIMARY KEY, v text)");
      }
      Map<String, Object> out = new LinkedHashMap<>();
      conn.setAutoCommit(false);
      try (PreparedStatement ps = conn.prepareStatement("INSERT INTO j_tx (id, v) VALUES (?, ?)")) {
        for (int i = 1; i <= 10; i++) {
          ps.setInt(1, i);
          ps.setString(2, "row " + i);
          ps.addBatch();
        }
        out.put("firstBatch", Arrays.toString(ps.executeBatch()));
        out.put("uncommittedElsewhere", count(setup));
        conn.rollback();
        out.put("afterRollback", count(setup));
        for (int i = 11; i <= 20; i++) {
          ps.setInt(1, i);
          ps.setString(2, "row " + i);
          ps.addBatch();
        }
        out.put("secondBatch", Arrays.toString(ps.executeBatch()));
        conn.commit();
        out.put("afterCommit", count(setup));
      }
      try (Statement st = conn.createStatement()) {
        out.put("updated", st.executeUpdate("UPDATE j_tx SET v = 'changed' WHERE id > 15"));
        out.put("deleted", st.executeUpdate("DELETE FROM j_tx WHERE id > 18"));
      }
      conn.commit();
      try (Statement st = setup.createStatement();
          ResultSet rs = st.executeQuery("SELECT id, v FROM j_tx WHERE id >= 15 ORDER BY id")) {
        List<Object> rows = new ArrayList<>();
        while (rs.next()) rows.add(rs.getInt(1) + ":" + rs.getString(2));
        out.put("finalRows", rows);
      }
      return out;
    }
  }

  private static long count(Connection conn) throws SQLException {
    try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM j_tx")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Object errors() throws SQLException {
    try (Connection conn = connect()) {
      try (Statement st = conn.createStatement()) {
        st.execute("CREATE TABLE j_err (id int4 PRIMARY KEY)");
        st.execute("INSERT INTO j_err VALUES (1)");
      }
      conn.setAutoCommit(false);
      List<Object> seen = new ArrayList<>();
      seen.add(attempt(conn, "SELECT * FROM j_no_such_table", null));
      // The failed statement aborted the transaction; everything until rollback fails with 25P02.
      seen.add(attempt(conn, "SELECT 1", null));
      conn.rollback();
      seen.add(attempt(conn, "SELECT 1 AS ok", null));
      seen.add(attempt(conn, "SELEC 1", null));
      conn.rollback();
      seen.add(attempt(conn, "INSERT INTO j_err VALUES (?)", 1));
      conn.rollback();
      seen.add(attempt(conn, "SELECT CAST('abc' AS int4)", null));
      conn.rollback();
      seen.add(attempt(conn, "SELECT count(*) FROM j_err", null));
      conn.commit();
      return seen;
    }
  }

  private static Object attempt(Connection conn, String sql, Integer param) {
    try (PreparedStatement ps = conn.prepareStatement(sql)) {
      if (param != null) ps.setInt(1, param);
      if (!ps.execute()) return List.of("no error", ps.getUpdateCount());
      try (ResultSet rs = ps.getResultSet()) {
        rs.next();
        return List.of("no error", rs.getString(1));
      }
    } catch (SQLException e) {
      return List.of(String.valueOf(e.getSQLState()));
    }
  }

  private static String hex(byte[] bytes) {
    if (bytes == null) return null;
    StringBuilder sb = new StringBuilder();
    for (byte b : bytes) sb.append(String.format("%02x", b));
    return sb.toString();
  }

  private static void step(String name, Step step) {
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("step", name);
    try {
      Object value = step.run();
      record.put("ok", true);
      record.put("value", value);
    } catch (Exception e) {
      record.put("ok", false);
      record.put("error", e.toString());
      record.put("sqlstate", e instanceof SQLException se ? se.getSQLState() : null);
      java.io.StringWriter trace = new java.io.StringWriter();
      e.printStackTrace(new java.io.PrintWriter(trace));
      record.put("traceback", trace.toString());
    }
    System.out.println(json(record));
    System.out.flush();
  }

  private static String json(Object value) {
    if (value == null) return "null";
    if (value instanceof Boolean || value instanceof Integer || value instanceof Long) return value.toString();
    if (value instanceof Map<?, ?> map) {
      StringBuilder sb = new StringBuilder("{");
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (sb.length() > 1) sb.append(',');
        sb.append(json(String.valueOf(e.getKey()))).append(':').append(json(e.getValue()));
      }
      return sb.append('}').toString();
    }
    if (value instanceof List<?> list) {
      StringBuilder sb = new StringBuilder("[");
      for (Object item : list) {
        if (sb.length() > 1) sb.append(',');
        sb.append(json(item));
      }
      return sb.append(']').toString();
    }
    String s = value.toString();
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          // Escaped rather than printed: the JVM's stdout encoding follows the locale, often ASCII.
          if (ch < 0x20 || ch > 0x7e) sb.append(String.format("\\u%04x", (int) ch));
          else sb.append(ch);
        }
      }
    }
    return sb.append('"').toString();
  }
}
