import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import software.amazon.dynamodb.services.local.main.CommandLineInput;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;
import software.amazon.dynamodb.services.local.server.LocalDynamoDBRequestHandler;
import software.amazon.dynamodb.services.local.server.LocalDynamoDBServerHandler;

/**
 * DynamoDB Local listening on one address only: `-host <address>` followed by the jar's own
 * options. The jar has no such option: its DynamoDBProxyServer builds Jetty's
 * `new Server(port)`, which listens on every interface, IPv4 and IPv6, so any host on the
 * network could read and write every table.
 *
 * The server is the jar's, built as its ServerRunner builds it, from its own command-line
 * parser, so the options keep their meaning and their errors. The one change is the host of
 * its connector, set through public API before the server starts. Telemetry is never
 * configured, so nothing is sent whatever the options say.
 *
 * Once started it checks the address it actually listens on and exits if that is not the one
 * asked for: a jar whose server ignores the host must fail to start, not listen on the network.
 *
 * Loopback alone does not keep web pages out: a page in the developer's browser can reach
 * 127.0.0.1 (after a port scan), and a DNS-rebinding page does so same-origin, with its own
 * host name in Host. So the jar's handler is wrapped in BrowserGuard, which refuses what a
 * browser sends and the project's clients (the AWS SDKs, the edge's proxy) never do. No
 * `-cors` is ever passed: the jar then sends Access-Control-Allow-Origin to no origin.
 */
final class DynamoDbLocalLoopback {
  public static void main(String[] argv) {
    try {
      run(argv);
    } catch (Throwable error) {
      // Exit whatever threads a half-started server left running: the caller learns of the
      // failure from the exit and this trace (a taken port shows as BindException).
      error.printStackTrace();
      System.exit(1);
    }
  }

  private static void run(String[] argv) throws Exception {
    List<String> args = new ArrayList<>(Arrays.asList(argv));
    int at = args.indexOf("-host");
    if (at < 0 || at + 1 >= args.size()) throw new IllegalArgumentException("usage: DynamoDbLocalLoopback -host <address> [DynamoDB Local options]");
    InetAddress host = InetAddress.getByName(args.get(at + 1));
    args.subList(at, at + 2).clear();

    CommandLineInput cli = new CommandLineInput(args.toArray(new String[0]));
    if (!cli.init()) System.exit(2); // -help, -version, or an invalid option: the jar has said why
    if (cli.shouldOptimizeDBBeforeStartup()) throw new IllegalArgumentException("-optimizeDbBeforeStartup is not supported here");

    LocalDynamoDBServerHandler handler = new LocalDynamoDBServerHandler(
        new LocalDynamoDBRequestHandler(0, cli.isInMemory(), cli.getDbPath(), cli.getSharedDb(), cli.shouldDelayTransientStatuses()),
        cli.getCorsParams());
    DynamoDBProxyServer proxy = new DynamoDBProxyServer(cli.getPort(), handler);
    // The proxy keeps its Jetty server private; the handler it installed knows it.
    Server jetty = handler.getServer();
    if (jetty == null || jetty.getConnectors().length == 0) throw new IllegalStateException("DynamoDB Local's Jetty server was not found: cannot choose its address");
    for (Connector connector : jetty.getConnectors()) ((ServerConnector) connector).setHost(host.getHostAddress());
    if (jetty.getHandler() == null) throw new IllegalStateException("DynamoDB Local's Jetty server has no handler: cannot guard it");
    jetty.insertHandler(new BrowserGuard());

    proxy.start();
    if (!jetty.isStarted()) throw new IllegalStateException("DynamoDB Local did not start (see above)");
    for (Connector connector : jetty.getConnectors()) {
      Object transport = ((ServerConnector) connector).getTransport();
      InetSocketAddress bound = transport instanceof ServerSocketChannel ? (InetSocketAddress) ((ServerSocketChannel) transport).getLocalAddress() : null;
      if (bound == null || !bound.getAddress().equals(host)) {
        proxy.stop();
        throw new IllegalStateException("DynamoDB Local listens on " + bound + ", not on " + host.getHostAddress() + " as asked: stopped");
      }
    }
    System.out.println("DynamoDB Local listening on " + host.getHostAddress() + ":" + cli.getPort() + " only");
  }

  /**
   * Refuses, with 403 and a DynamoDB-style JSON error (as the edge does), any request a web
   * page can make: one with an Origin header, one a browser marks as made for another site
   * (Sec-Fetch-Site: cross-site or same-site; a <form> or <img> request may carry no
   * Origin), a CORS preflight (OPTIONS), and one whose Host is not a loopback name
   * (127.0.0.1, localhost or [::1], any port): a DNS-rebinding page sends its own name.
   * The edge's proxy forwards its client's Host (e.g. localhost:4566), hence any port.
   */
  static final class BrowserGuard extends Handler.Wrapper {
    private static final Set<String> LOOPBACK_HOST_NAMES = Set.of("127.0.0.1", "localhost", "[::1]");
    private static final Set<String> FOREIGN_FETCH_SITES = Set.of("cross-site", "same-site");
    private static final Pattern HOST = Pattern.compile("^(\\[[^\\]]*\\]|[^:\\[\\]]+)(?::\\d{1,5})?$");
    /** Longest part of a header echoed in a refusal: enough to recognize it, not a reflection channel. */
    private static final int ECHO_LIMIT = 100;

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      String refusal = refusal(request);
      if (refusal == null) return super.handle(request, response, callback);
      byte[] body = ("{\"__type\":\"AccessDeniedException\",\"message\":\"" + jsonEscaped(refusal) + "\"}").getBytes(StandardCharsets.UTF_8);
      response.setStatus(403);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/x-amz-json-1.0");
      response.getHeaders().put("x-amzn-ErrorType", "AccessDeniedException");
      response.getHeaders().put("X-Content-Type-Options", "nosniff");
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
      response.write(true, ByteBuffer.wrap(body), callback);
      return true;
    }

    /** Why the request is refused, or null. */
    static String refusal(Request request) {
      List<String> hosts = request.getHeaders().getValuesList(HttpHeader.HOST);
      String host = hosts.size() == 1 ? hosts.get(0) : null;
      if (!isLoopbackHost(host)) {
        return "DynamoDB Local answers only Host 127.0.0.1, localhost or [::1], got "
            + (hosts.isEmpty() ? "no Host" : "Host: " + echo(String.join(", ", hosts))) + ": a DNS name pointed at loopback is refused";
      }
      String origin = request.getHeaders().get(HttpHeader.ORIGIN);
      if (origin != null) {
        return "DynamoDB Local refuses requests from web pages (Origin: " + echo(origin) + "): it is an unauthenticated "
            + "database for loopback clients such as the AWS SDKs, which send no Origin";
      }
      String fetchSite = request.getHeaders().get("Sec-Fetch-Site");
      if (fetchSite != null && FOREIGN_FETCH_SITES.contains(fetchSite.toLowerCase(Locale.ROOT))) {
        return "DynamoDB Local refuses requests a browser makes for another site's page (Sec-Fetch-Site: " + echo(fetchSite) + ")";
      }
      if ("OPTIONS".equalsIgnoreCase(request.getMethod())) {
        return "DynamoDB Local answers no OPTIONS (CORS preflight): browsers may not call it";
      }
      return null;
    }

    static boolean isLoopbackHost(String host) {
      if (host == null) return false;
      Matcher match = HOST.matcher(host.toLowerCase(Locale.ROOT));
      return match.matches() && LOOPBACK_HOST_NAMES.contains(match.group(1));
    }

    private static String echo(String value) {
      return value.length() > ECHO_LIMIT ? value.substring(0, ECHO_LIMIT) + "..." : value;
    }

    /** As a JSON string's content; <, > and & escaped too, so no sniffer sees markup. */
    private static String jsonEscaped(String text) {
      StringBuilder out = new StringBuilder(text.length() + 16);
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        if (c == '"' || c == '\\') out.append('\\').append(c);
        else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c > 0x7e) out.append(String.format("\\u%04x", (int) c));
        else out.append(c);
      }
      return out.toString();
    }
  }
}
