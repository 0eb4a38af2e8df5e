/**
 * The hand-off between threads: a bounded single-producer/single-consumer ring
 * ({@link dev.framepipe.ring.SpscRing}) and a mailbox-style consumer that drains it on an
 * executor ({@link dev.framepipe.ring.RingConsumer}). The pipeline uses one pair per direction
 * and per I/O thread: requests from an event loop to the ForkJoinPool workers, answered batches
 * from the workers back to the event loop ({@code dev.framepipe.pipeline.Lane}).
 *
 * <h2>Who may call what</h2>
 * <table class="striped">
 *   <caption>Callers</caption>
 *   <thead><tr><th>method</th><th>caller</th></tr></thead>
 *   <tbody>
 *   <tr><td>{@code SpscRing.offer}</td><td>the one producer thread</td></tr>
 *   <tr><td>{@code SpscRing.poll}, {@code drain}</td><td>the one consumer thread; when a
 *       {@code RingConsumer} owns the ring, only its drain task (the role moves from one drain
 *       run to the next, each run ordered after the previous one)</td></tr>
 *   <tr><td>{@code SpscRing.size}, {@code isEmpty}, {@code capacity}</td><td>any thread;
 *       snapshots, exact only when the ring is quiescent</td></tr>
 *   <tr><td>{@code RingConsumer.offer}, {@code offerDeferred}, {@code wakeUp}</td><td>the
 *       producer thread</td></tr>
 *   <tr><td>{@code BatchHandler.onElement}, {@code onBatchEnd}</td><td>called by the drain,
 *       one run at a time, never concurrently with each other</td></tr>
 *   </tbody>
 * </table>
 * A producer that is itself a drain running on several pool threads in turn (the workers
 * offering answered batches back) gives the producer role up at the end of each run
 * ({@code SpscRing.releaseProducerRole}), ordered by its own drain's scheduling hand-off. With
 * {@code -ea} (the tests) a second producer or a concurrent second consumer fails with an
 * {@link java.lang.AssertionError}; without it the checks cost nothing.
 *
 * <h2>Access-mode vocabulary</h2>
 * The comments in this package use the {@link java.lang.invoke.VarHandle} access modes:
 * <dl>
 *   <dt>plain</dt><dd>an ordinary field access: no ordering with other threads at all. Only for
 *       fields one thread owns.</dd>
 *   <dt>opaque</dt><dd>never torn, and eventually seen by other threads; orders nothing else.</dd>
 *   <dt>release (store) / acquire (load)</dt><dd>a release store publishes every write before it
 *       to the thread whose acquire load reads the stored value (happens-before). On x86 both are
 *       plain {@code mov}s; on AArch64 they are {@code stlr}/{@code ldar}.</dd>
 *   <dt>volatile</dt><dd>sequentially consistent: the compare-and-set operations, and the full
 *       fences ({@code VarHandle.fullFence()}, a locked instruction on x86) that give a
 *       store-then-load pair its StoreLoad order.</dd>
 * </dl>
 *
 * <table class="striped">
 *   <caption>Which field uses which mode</caption>
 *   <thead><tr><th>field</th><th>written</th><th>read</th></tr></thead>
 *   <tbody>
 *   <tr><td>a slot of {@code SpscRing.buffer} (the full/empty flag)</td>
 *       <td>producer: release store of the element; consumer: release store of null after
 *       reading it</td>
 *       <td>consumer: acquire load (null: empty); producer: acquire probe (null: free)</td></tr>
 *   <tr><td>{@code producerIndex}, {@code consumerIndex}</td>
 *       <td>owning side: release store after the slot access</td>
 *       <td>owning side: plain; {@code size}, {@code isEmpty} and the drain's re-check:
 *       acquire</td></tr>
 *   <tr><td>{@code producerLimit} (the producer's cached view of the consumer)</td>
 *       <td>producer: plain</td><td>producer: plain</td></tr>
 *   <tr><td>{@code producerOwner}, {@code consumerOwner} (assertions only)</td>
 *       <td>compare-and-exchange to claim, release store to give up</td><td>acquire</td></tr>
 *   <tr><td>{@code RingConsumer.DrainTask.state} (IDLE or SCHEDULED)</td>
 *       <td>producer and re-claiming drain: CAS IDLE to SCHEDULED; drain: release store of IDLE,
 *       then a full fence</td>
 *       <td>producer: acquire, after a full fence</td></tr>
 *   <tr><td>{@code RingConsumer.parked} (the drain's thread while it parks)</td>
 *       <td>drain: release store, then a full fence ({@code announcePark}); opaque clear</td>
 *       <td>producer: acquire, after its full fence</td></tr>
 *   <tr><td>the drain's own state ({@code taken}) and the handler's state</td>
 *       <td>plain</td><td>plain: successive drain runs happen-before each other</td></tr>
 *   </tbody>
 * </table>
 * There is no volatile store on the ring's hot path: an offer is a release store of the slot
 * and of the index; a poll an acquire load and two release stores. {@code RingConsumer} adds one
 * full fence per wake-up ({@code offer}, or {@code wakeUp} after any number of
 * {@code offerDeferred}), which is the price of never losing a wake-up.
 *
 * <h2>The contract</h2>
 * <ul>
 *   <li>An element stored by {@code offer} happens-before the {@code poll} or {@code drain} that
 *       returns it; the consumer's taking of an element happens-before the producer's reuse of
 *       its slot. Slots are nulled when taken: the ring retains nothing.</li>
 *   <li>Every element that {@code RingConsumer.offer} accepted, and every element offered before
 *       a {@code wakeUp}, reaches the handler, in FIFO order. The wake-up is a Dekker pair: the
 *       producer stores the element, fences, loads the drain's state (or its parked thread);
 *       the drain stores IDLE (or its thread), fences, loads the producer index. At least one
 *       of the two sees the other, and the CAS lets only one drain exist.</li>
 *   <li>At most one drain is scheduled or running; a wake-up allocates nothing (the drain is one
 *       reusable {@link java.util.concurrent.ForkJoinTask} whose {@code exec()} returns
 *       false); nobody spins. A drain on a {@link java.util.concurrent.ForkJoinPool} may park
 *       its pool thread on an empty ring for up to {@code idleParkNanos}, and the next offer
 *       unparks it; a drain on any other executor (an event loop) never parks.</li>
 * </ul>
 *
 * <h2>The two slot paths</h2>
 * Slots are read and written either through {@code jdk.internal.misc.Unsafe}
 * ({@code getReferenceAcquire}, {@code putReferenceRelease}; class {@code UnsafeSlots}) or
 * through the {@link java.lang.invoke.VarHandle} {@code SpscRing.SLOTS}. Both are the same
 * acquire loads and release stores, so the contract above holds on both; the internal
 * {@code Unsafe} skips the index check and the array-store class check that a {@code VarHandle}
 * makes on every access and C2 cannot remove for a masked, padded index. It is used when the JVM
 * exports {@code jdk.internal.misc} to this code: framepipe's jar manifest ({@code Add-Exports}),
 * the launcher's test, benchmark and jcstress runs, and the container do. Without the export, or
 * with {@code -Dframepipe.ring.slots=varhandle} ({@code FRAMEPIPE_RING_SLOTS=varhandle} for the
 * launcher), the {@code VarHandle} is used; {@code SpscRing.slotAccess()} names the path and the
 * start-up log prints it. On the {@code VarHandle} path the consumer hands a slot back with a
 * release fence and a plain store of null, which is a release store without the store check.
 *
 * <h2>What proves it</h2>
 * jcstress ({@code server/src/jcstress}, {@code bin/framepipe jcstress}, and with
 * {@code FRAMEPIPE_RING_SLOTS=varhandle} on the other slot path):
 * <ul>
 *   <li>{@code SpscRingOfferPollStress}: capacity 1, the empty and the full boundary, five offers
 *       against five polls across the wrap at capacities 1 to 64 (nothing lost, duplicated,
 *       reordered, invented or retained), {@code size()} under a race;</li>
 *   <li>{@code SpscRingDrainStress}: {@code drain} with a limit against offers across the wrap;</li>
 *   <li>{@code RingConsumerHandshakeStress}: the producer's wake-up against the drain
 *       unscheduling itself (one offer, a burst, a deferred burst, and the completion direction:
 *       a worker's deferred offers against an event loop's drain): no lost wake-up, at most one
 *       drain;</li>
 *   <li>{@code RingConsumerParkStress}: an offer against a drain about to park: the drain sees the
 *       element or the producer unparks it, never neither.</li>
 * </ul>
 * Each fence is needed: without the producer's, {@code RingWakeUpSingleOffer} observes the
 * forbidden "element stranded" outcome; without the drain's in {@code announcePark},
 * {@code RingConsumerParkStress} observes a lost wake-up. The unit tests ({@code SpscRingTest},
 * {@code RingConsumerTest}, {@code SlotAccessTest}) run on both paths (Surefire's default and
 * {@code ring-varhandle} executions). Measurements: {@code docs/performance-ring.md}.
 */
package dev.framepipe.ring;
