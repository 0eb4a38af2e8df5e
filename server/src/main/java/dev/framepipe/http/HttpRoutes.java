package dev.framepipe.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.function.BooleanSupplier;

/**
 * Routes of the HTTP port. {@code /metrics} negotiates the exposition format from
 * {@code Accept}: OpenMetrics when the scraper asks for {@code application/openmetrics-text},
 * the Prometheus text format 0.0.4 otherwise. Gzip is applied by the pipeline's compressor
 * when {@code Accept-Encoding} asks for it.
 */
@ChannelHandler.Sharable
final class HttpRoutes extends SimpleChannelInboundHandler<FullHttpRequest> {

    static final String TEXT_004 = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final PrometheusMeterRegistry registry;
    private final BooleanSupplier ready;

    HttpRoutes(PrometheusMeterRegistry registry, BooleanSupplier ready) {
        this.registry = registry;
        this.ready = ready;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        String path = new QueryStringDecoder(req.uri()).path();
        HttpMethod method = req.method();
        boolean get = HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method);
        FullHttpResponse res;
        switch (path) {
            case "/metrics" -> {
                if (!get) {
                    res = methodNotAllowed(ctx);
                    break;
                }
                String contentType = acceptsOpenMetrics(req.headers().get(HttpHeaderNames.ACCEPT)) ? OPENMETRICS : TEXT_004;
                res = text(ctx, HttpResponseStatus.OK, registry.scrape(contentType), contentType);
            }
            case "/health/live" -> res = get ? text(ctx, HttpResponseStatus.OK, "live\n", "text/plain; charset=utf-8")
                    : methodNotAllowed(ctx);
            case "/health/ready" -> {
                if (!get) {
                    res = methodNotAllowed(ctx);
                } else if (ready.getAsBoolean()) {
                    res = text(ctx, HttpResponseStatus.OK, "ready\n", "text/plain; charset=utf-8");
                } else {
                    res = text(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready\n", "text/plain; charset=utf-8");
                }
            }
            default -> res = text(ctx, HttpResponseStatus.NOT_FOUND, "not found\n", "text/plain; charset=utf-8");
        }
        if (HttpMethod.HEAD.equals(method)) {
            int length = res.content().readableBytes();
            res = res.replace(ctx.alloc().buffer(0));
            HttpUtil.setContentLength(res, length);
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        HttpUtil.setKeepAlive(res, keepAlive);
        var future = ctx.writeAndFlush(res);
        if (!keepAlive) {
            future.addListener(ChannelFutureListener.CLOSE);
        }
    }

    static boolean acceptsOpenMetrics(String accept) {
        return accept != null && accept.contains("application/openmetrics-text");
    }

    private static FullHttpResponse text(ChannelHandlerContext ctx, HttpResponseStatus status, String body, String type) {
        ByteBuf content = ByteBufUtil.writeUtf8(ctx.alloc(), body);
        FullHttpResponse res = new DefaultFullHttpResponse(req11(), status, content);
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
        HttpUtil.setContentLength(res, content.readableBytes());
        return res;
    }

    private static FullHttpResponse methodNotAllowed(ChannelHandlerContext ctx) {
        FullHttpResponse res = text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed\n",
                "text/plain; charset=utf-8");
        res.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
        return res;
    }

    private static io.netty.handler.codec.http.HttpVersion req11() {
        return io.netty.handler.codec.http.HttpVersion.HTTP_1_1;
    }
}
