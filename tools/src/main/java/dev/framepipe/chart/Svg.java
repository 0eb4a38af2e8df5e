package dev.framepipe.chart;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.Locale;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.xy.XYDataset;
import org.jfree.svg.SVGGraphics2D;

/**
 * JFreeChart set up once for every chart of the project (size, fonts, colours, legend), drawn
 * into JFreeSVG's {@link SVGGraphics2D} and written as an SVG file.
 */
final class Svg {

    static final int WIDTH = 900;
    static final int HEIGHT = 520;

    /** The servers' colours, the same in every chart: raw, Netty baseline, framepipe. */
    static final Color RAW = new Color(0x4D4D4D);
    static final Color NETTY = new Color(0x5B8DB8);
    static final Color FRAMEPIPE = new Color(0xD9822B);
    static final Color[] PALETTE = {RAW, NETTY, FRAMEPIPE, new Color(0x5AA469), new Color(0x9467BD),
        new Color(0xC0392B), new Color(0x17BECF), new Color(0xBCBD22), new Color(0x8C564B), new Color(0xE377C2)};

    static final Font BASE = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    static final BasicStroke DASHED = new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f);

    private Svg() {
    }

    /**
     * A grouped bar chart: one group per category (column key), one bar per series (row key), in
     * the palette's order; values null are left out. On a log axis ({@code log}) a bar rises from
     * the axis's lower end, set to the decade below the smallest value (a log axis has no zero).
     */
    static JFreeChart bars(String title, String xTitle, String yTitle, CategoryDataset data, boolean log) {
        CategoryAxis x = new CategoryAxis(xTitle);
        x.setMaximumCategoryLabelLines(3);
        x.setCategoryLabelPositions(CategoryLabelPositions.STANDARD);
        ValueAxis y;
        if (log) {
            LogAxis axis = logAxis(yTitle);
            double min = Double.MAX_VALUE;
            double max = 0;
            for (int r = 0; r < data.getRowCount(); r++) {
                for (int c = 0; c < data.getColumnCount(); c++) {
                    Number v = data.getValue(r, c);
                    if (v != null && v.doubleValue() > 0) {
                        min = Math.min(min, v.doubleValue());
                        max = Math.max(max, v.doubleValue());
                    }
                }
            }
            if (max > 0) {
                axis.setRange(Math.pow(10, Math.floor(Math.log10(min))), Math.pow(10, Math.ceil(Math.log10(max * 1.5))));
            }
            y = axis;
        } else {
            NumberAxis axis = new NumberAxis(yTitle);
            axis.setUpperMargin(0.12); // room for the value above the tallest bar
            y = axis;
        }
        BarRenderer r = new BarRenderer();
        r.setBarPainter(new StandardBarPainter()); // flat bars, no gradient or shadow
        r.setShadowVisible(false);
        r.setItemMargin(0.04);
        r.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new DecimalFormat("#,##0.##")));
        r.setDefaultItemLabelsVisible(true);
        r.setDefaultItemLabelFont(BASE.deriveFont(9f));
        r.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12, TextAnchor.BOTTOM_CENTER));
        for (int i = 0; i < data.getRowCount(); i++) {
            r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
        }
        CategoryPlot plot = new CategoryPlot(data, x, y, r);
        plot.setOrientation(PlotOrientation.VERTICAL);
        return finish(new JFreeChart(title, BASE.deriveFont(Font.BOLD, 14f), plot, true), plot);
    }

    /** A base-10 log axis with a labelled tick at every decade and unlabelled ones between. */
    static LogAxis logAxis(String title) {
        LogAxis axis = new LogAxis(title);
        axis.setBase(10);
        axis.setTickUnit(new NumberTickUnit(1)); // one decade: the unit is in powers of the base
        axis.setNumberFormatOverride(new DecimalFormat("#,##0.###"));
        axis.setMinorTickCount(9);
        axis.setMinorTickMarksVisible(true);
        return axis;
    }

    /** A line chart with a marker at every point; the caller sets the axes' scales and series' strokes. */
    static JFreeChart lines(String title, ValueAxis x, ValueAxis y, XYDataset data) {
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            r.setSeriesStroke(i, new BasicStroke(2f));
        }
        XYPlot plot = new XYPlot(data, x, y, r);
        return finish(new JFreeChart(title, BASE.deriveFont(Font.BOLD, 14f), plot, true), plot);
    }

    private static JFreeChart finish(JFreeChart chart, org.jfree.chart.plot.Plot plot) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.getLegend().setItemFont(BASE);
        chart.getLegend().setPosition(RectangleEdge.BOTTOM);
        chart.getLegend().setFrame(org.jfree.chart.block.BlockBorder.NONE);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlineVisible(false);
        if (plot instanceof CategoryPlot p) {
            p.setRangeGridlinePaint(new Color(0xDDDDDD));
            style(p.getDomainAxis());
            style(p.getRangeAxis());
        } else if (plot instanceof XYPlot p) {
            p.setRangeGridlinePaint(new Color(0xDDDDDD));
            p.setDomainGridlinePaint(new Color(0xDDDDDD));
            style(p.getDomainAxis());
            style(p.getRangeAxis());
        }
        return chart;
    }

    private static void style(org.jfree.chart.axis.Axis axis) {
        axis.setLabelFont(BASE);
        axis.setTickLabelFont(BASE.deriveFont(11f));
    }

    /** A subtitle under the title (what was measured, how). */
    static void subtitle(JFreeChart chart, String text) {
        chart.addSubtitle(new TextTitle(text, BASE.deriveFont(11f)));
    }

    /** Writes the chart as SVG to {@code file} (its name should end in .svg). */
    static Path write(JFreeChart chart, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
        chart.draw(g, new Rectangle(0, 0, WIDTH, HEIGHT));
        Files.writeString(file, g.getSVGDocument(), StandardCharsets.UTF_8);
        return file;
    }

    /** 1234567 as "1.23 M", 1234 as "1.23 k": titles and labels. */
    static String si(double v) {
        double a = Math.abs(v);
        if (a >= 1e9) {
            return String.format(Locale.ROOT, "%.3g G", v / 1e9);
        }
        if (a >= 1e6) {
            return String.format(Locale.ROOT, "%.3g M", v / 1e6);
        }
        if (a >= 1e3) {
            return String.format(Locale.ROOT, "%.3g k", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.3g", v);
    }

    /** A file-name part made of a label: lower case, letters, digits and dashes. */
    static String slug(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
    }
}
