// Oracle for Maven versions: maven-artifact's ComparableVersion. "a<TAB>b" lines in, -1/0/1 out.
import java.io.*;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class MavenCompare {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            int tab = line.indexOf('\t');
            ComparableVersion a = new ComparableVersion(line.substring(0, tab));
            ComparableVersion b = new ComparableVersion(line.substring(tab + 1));
            out.println(Integer.signum(a.compareTo(b)));
        }
    }
}
