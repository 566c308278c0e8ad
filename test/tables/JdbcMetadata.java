import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;

/**
 * Prints, one line each, what pgjdbc's DatabaseMetaData reports for the tables and views of one schema
 * and their columns: what JDBC tools (DBeaver, ORMs on the JVM) read. Arguments: host port database
 * user schema.
 */
public class JdbcMetadata {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/" + args[2];
    String schema = args[4];
    try (Connection c = DriverManager.getConnection(url, args[3], "")) {
      DatabaseMetaData md = c.getMetaData();
      try (ResultSet r = md.getTables(null, schema, "%", new String[] {"TABLE", "VIEW"})) {
        while (r.next()) {
          System.out.println("table " + r.getString("TABLE_SCHEM") + "." + r.getString("TABLE_NAME") + " "
              + r.getString("TABLE_TYPE"));
        }
      }
      try (ResultSet r = md.getColumns(null, schema, "%", "%")) {
        while (r.next()) {
          System.out.println("column " + r.getString("TABLE_NAME") + "." + r.getString("COLUMN_NAME") + " "
              + r.getString("TYPE_NAME") + " type=" + r.getInt("DATA_TYPE") + " size=" + r.getInt("COLUMN_SIZE")
              + " digits=" + r.getInt("DECIMAL_DIGITS") + " nullable=" + r.getString("IS_NULLABLE")
              + " auto=" + r.getString("IS_AUTOINCREMENT") + " position=" + r.getInt("ORDINAL_POSITION"));
        }
      }
    }
  }
}
