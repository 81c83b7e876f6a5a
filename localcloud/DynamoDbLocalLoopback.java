import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
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
}
